import { apiLink, type ApiLink } from './api-schema.js';
import { sameId, type WorkflowId } from './id-index.js';
import { MODE_BYPASS, SUBGRAPH_INPUT, linkOrigin, linkOriginSlot, linkType, typeString, type Scope, type ValueSource } from './scope.js';
import type { UiInput, UiLink, UiNode } from './ui-schema.js';
import { warning, type WorkflowWarning } from './warnings.js';

/** Links followed before the walk starts remembering them to notice a loop: most walks are a hop or two. */
const UNCHECKED_HOPS = 64;

/** A literal that feeds an input instead of a link (a PrimitiveNode's or a promoted widget's value). */
export interface ResolvedValue {
  value: unknown;
  source: ValueSource | undefined;
}

/** The API link `[nodeId, slot]` to the node output that feeds an input, or the value that does. */
export type Resolution = ApiLink | ResolvedValue;

/** The next link to follow, in the scope that holds it. */
interface Hop {
  scope: Scope;
  link: WorkflowId;
}

/**
 * Follows a link to the node output that really feeds it (protocol reference 3.4): through legacy Reroute nodes,
 * bypassed nodes (same-type input, same slot first), subgraph and group-node boundaries; a PrimitiveNode yields
 * its value. Returns undefined when nothing feeds it (the input is then left out). A loop, not recursion: a chain
 * of any length resolves, and a chain that comes back on itself is reported once it repeats a link.
 */
export function resolveLink(start: Scope, startLink: WorkflowId, warnings: WorkflowWarning[]): Resolution | undefined {
  // The first hop in two variables, not a Hop object: every linked input of a conversion starts here.
  let hopScope = start;
  let hopLink = startLink;
  let followed = 0;
  let seen: Map<Scope, Set<UiLink>> | undefined;
  for (;;) {
    let scope = hopScope;
    const link = scope.links.get(hopLink);
    if (!link) {
      warnings.push(warning('dangling_link', `Link ${String(hopLink)} is not in the workflow's links`, scope.prefix.slice(0, -1) || undefined));
      return undefined;
    }
    if (++followed > UNCHECKED_HOPS) {
      seen ??= new Map();
      let links = seen.get(scope);
      if (!links) seen.set(scope, (links = new Set()));
      if (links.has(link)) {
        const id = scope.prefix + String(linkOrigin(link));
        warnings.push(warning('link_cycle', `Links loop through node ${id}`, id));
        return undefined;
      }
      links.add(link);
    }
    let origin = linkOrigin(link);
    let slot = linkOriginSlot(link);
    let type = linkType(link);
    // Into subgraph and group-node instances: each level down is a child scope, so this ends.
    let child = scope.children.get(origin);
    let node = scope.nodes.get(origin);
    while (child && node?.mode !== MODE_BYPASS) {
      const inner = child.outputs.get(slot);
      if (!inner) return undefined;
      scope = child;
      ({ origin, originSlot: slot } = inner);
      type = inner.type ?? type;
      child = scope.children.get(origin);
      node = scope.nodes.get(origin);
    }
    const next = sameId(origin, SUBGRAPH_INPUT) ? boundaryInput(scope, slot) : nodeOutput(scope, origin, node, slot, type, warnings);
    if (next === undefined || !('link' in next)) return next;
    hopScope = next.scope;
    hopLink = next.link;
  }
}

/** What feeds output `slot` of a node that is not an instance: the node itself, its value, or a link to follow. */
function nodeOutput(scope: Scope, origin: WorkflowId, node: UiNode | undefined, slot: number, type: string | undefined, warnings: WorkflowWarning[]): Resolution | Hop | undefined {
  if (!node) {
    warnings.push(warning('dangling_link', `A link starts at node ${scope.prefix}${origin}, which does not exist`, scope.prefix + origin));
    return undefined;
  }
  if (node.mode === MODE_BYPASS) return bypassInput(scope, node, slot, type, warnings);
  if (node.type === 'Reroute') {
    const link = node.inputs?.[0]?.link;
    return link === null || link === undefined ? undefined : { scope, link };
  }
  if (node.type === 'PrimitiveNode') {
    const values = Array.isArray(node.widgets_values) ? node.widgets_values : [];
    return { value: values[0], source: { nodeId: scope.prefix + origin, slot: 0 } };
  }
  return apiLink(scope.prefix + origin, slot);
}

function bypassInput(scope: Scope, node: UiNode, slot: number, type: string | undefined, warnings: WorkflowWarning[]): Hop | undefined {
  const wanted = typeString(node.outputs?.[slot]?.type) ?? type;
  const inputs = node.inputs ?? [];
  const sameType = (input: UiInput | undefined): boolean => input !== undefined && typeString(input.type) === wanted;
  // The input at the same slot first, then the first of the wanted type.
  const index = sameType(inputs[slot]) ? slot : inputs.findIndex(sameType);
  const link = index < 0 ? undefined : inputs[index]!.link;
  if (link !== null && link !== undefined) return { scope, link };
  const id = scope.prefix + String(node.id);
  warnings.push(warning('input_dropped', `Bypassed node ${id} (${node.type}) has no connected ${wanted ?? ''} input to pass through`, id));
  return undefined;
}

/** An input of a subgraph or group node: the instance's link outside, or the value promoted onto the instance. */
function boundaryInput(scope: Scope, slot: number): ResolvedValue | Hop | undefined {
  if (!scope.parent) return undefined;
  const { scope: outer, instance } = scope.parent;
  const index = scope.instanceInput(slot);
  const input = index === undefined ? undefined : instance.inputs?.[index];
  if (!input) return undefined;
  if (input.link !== null && input.link !== undefined) return { scope: outer, link: input.link };
  if (!input.widget || !Array.isArray(instance.widgets_values)) return undefined;
  // An unconnected promoted input keeps its value on the instance, in the order of the instance's widget inputs.
  const position = (instance.inputs ?? []).slice(0, index).filter((i) => i.widget).length;
  if (position >= instance.widgets_values.length) return undefined;
  const instanceId = outer.prefix + String(instance.id);
  return { value: instance.widgets_values[position], source: { nodeId: instanceId, slot: position } };
}
