import { apiLink, type ApiLink } from './api-schema.js';
import { sameId, type WorkflowId } from './id-index.js';
import { MODE_BYPASS, SUBGRAPH_INPUT, linkOrigin, linkOriginSlot, linkType, typeString, type Scope, type ValueSource } from './scope.js';
import type { UiInput, UiNode } from './ui-schema.js';
import { warning, type WorkflowWarning } from './warnings.js';

const MAX_HOPS = 10_000;

/** A literal that feeds an input instead of a link (a PrimitiveNode's or a promoted widget's value). */
export interface ResolvedValue {
  value: unknown;
  source: ValueSource | undefined;
}

/** The API link `[nodeId, slot]` to the node output that feeds an input, or the value that does. */
export type Resolution = ApiLink | ResolvedValue;

/**
 * Follows a link to the node output that really feeds it (protocol reference 3.4): through legacy Reroute nodes,
 * bypassed nodes (same-type input, same slot first), subgraph and group-node boundaries; a PrimitiveNode yields
 * its value. Returns undefined when nothing feeds it (the input is then left out).
 */
export function resolveLink(scope: Scope, linkId: string | number, warnings: WorkflowWarning[], hops = 0): Resolution | undefined {
  const link = scope.links.get(linkId);
  if (!link) {
    warnings.push(warning('dangling_link', `Link ${String(linkId)} is not in the workflow's links`, scope.prefix.slice(0, -1) || undefined));
    return undefined;
  }
  return resolveOutput(scope, linkOrigin(link), linkOriginSlot(link), linkType(link), warnings, hops + 1);
}

function resolveOutput(scope: Scope, origin: WorkflowId, slot: number, type: string | undefined, warnings: WorkflowWarning[], hops: number): Resolution | undefined {
  // Counting hops is cheaper than remembering every step, and only a loop gets this far.
  if (hops > MAX_HOPS) {
    warnings.push(warning('link_cycle', `Links loop through node ${scope.prefix}${origin}`, scope.prefix + origin));
    return undefined;
  }
  if (sameId(origin, SUBGRAPH_INPUT)) return resolveBoundaryInput(scope, slot, warnings, hops + 1);
  const node = scope.nodes.get(origin);
  if (!node) {
    warnings.push(warning('dangling_link', `A link starts at node ${scope.prefix}${origin}, which does not exist`, scope.prefix + origin));
    return undefined;
  }
  const child = scope.children.get(origin);
  if (node.mode === MODE_BYPASS) return resolveBypass(scope, node, slot, type, warnings, hops + 1);
  if (child) {
    const inner = child.outputs.get(slot);
    return inner ? resolveOutput(child, inner.origin, inner.originSlot, inner.type ?? type, warnings, hops + 1) : undefined;
  }
  if (node.type === 'Reroute') {
    const link = node.inputs?.[0]?.link;
    return link === null || link === undefined ? undefined : resolveLink(scope, link, warnings, hops + 1);
  }
  if (node.type === 'PrimitiveNode') {
    const values = Array.isArray(node.widgets_values) ? node.widgets_values : [];
    return { value: values[0], source: { nodeId: scope.prefix + origin, slot: 0 } };
  }
  return apiLink(scope.prefix + origin, slot);
}

function resolveBypass(scope: Scope, node: UiNode, slot: number, type: string | undefined, warnings: WorkflowWarning[], hops: number): Resolution | undefined {
  const wanted = typeString(node.outputs?.[slot]?.type) ?? type;
  const inputs = node.inputs ?? [];
  const sameType = (input: UiInput | undefined): boolean => input !== undefined && typeString(input.type) === wanted;
  // The input at the same slot first, then the first of the wanted type.
  const index = sameType(inputs[slot]) ? slot : inputs.findIndex(sameType);
  const link = index < 0 ? undefined : inputs[index]!.link;
  if (link !== null && link !== undefined) return resolveLink(scope, link, warnings, hops + 1);
  const id = scope.prefix + String(node.id);
  warnings.push(warning('input_dropped', `Bypassed node ${id} (${node.type}) has no connected ${wanted ?? ''} input to pass through`, id));
  return undefined;
}

function resolveBoundaryInput(scope: Scope, slot: number, warnings: WorkflowWarning[], hops: number): Resolution | undefined {
  if (!scope.parent) return undefined;
  const { scope: outer, instance } = scope.parent;
  const index = scope.instanceInput(slot);
  const input = index === undefined ? undefined : instance.inputs?.[index];
  if (!input) return undefined;
  if (input.link !== null && input.link !== undefined) return resolveLink(outer, input.link, warnings, hops + 1);
  if (!input.widget || !Array.isArray(instance.widgets_values)) return undefined;
  // An unconnected promoted input keeps its value on the instance, in the order of the instance's widget inputs.
  const position = (instance.inputs ?? []).slice(0, index).filter((i) => i.widget).length;
  if (position >= instance.widgets_values.length) return undefined;
  const instanceId = outer.prefix + String(instance.id);
  return { value: instance.widgets_values[position], source: { nodeId: instanceId, slot: position } };
}
