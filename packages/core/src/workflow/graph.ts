import type { NodeCatalog } from './object-info.js';
import { subgraphSchema, type GroupNodeDefinition, type Subgraph, type UiInput, type UiLink, type UiNode, type UiWorkflow } from './ui-schema.js';
import { warning, type WorkflowWarning } from './warnings.js';
import type { WidgetSlot } from './widgets.js';

/** Frontend-only nodes: they shape the graph in the editor and are never sent to the server. */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

const SUBGRAPH_INPUT = '-10';
const SUBGRAPH_OUTPUT = '-20';
const MAX_DEPTH = 32;
const MAX_HOPS = 10_000;

interface ScopeLink {
  origin: string;
  originSlot: number;
  target: string;
  targetSlot: number;
  type: string | undefined;
}

/** Where a literal value is saved in the UI workflow: a node (full id) and its `widgets_values` slot. */
export interface ValueSource {
  nodeId: string;
  slot: WidgetSlot;
}

/** One graph level: the root, a subgraph instance's definition, or a legacy group node's inner graph. */
export interface Scope {
  prefix: string;
  nodes: Map<string, UiNode>;
  links: Map<string, ScopeLink>;
  children: Map<string, Scope>;
  parent: { scope: Scope; instance: UiNode } | undefined;
  /** Index in the instance's `inputs` of a boundary input slot. */
  instanceInput: (slot: number) => number | undefined;
  /** The inner link that feeds a boundary output slot. */
  outputs: Map<number, ScopeLink>;
}

export type FlatNodeKind = 'node' | 'virtual' | 'instance';

export interface FlatNode {
  id: string;
  kind: FlatNodeKind;
  node: UiNode;
  scope: Scope;
  /** The node and every enclosing instance are neither muted nor bypassed. */
  active: boolean;
  /** Where this node's `widgets_values` are saved (group-node instances hold their inner nodes' values). */
  widgetSource: { nodeId: string; offset: number };
  /** Values promoted onto a subgraph instance (`properties.proxyWidgets`), by widget name. */
  widgetOverrides: Map<string, { value: unknown; source: ValueSource }> | undefined;
}

export interface FlatGraph {
  nodes: FlatNode[];
  byId: Map<string, FlatNode>;
  warnings: WorkflowWarning[];
}

export type Resolution =
  | { kind: 'link'; nodeId: string; slot: number }
  | { kind: 'value'; value: unknown; source: ValueSource | undefined };

const typeString = (t: unknown): string | undefined => (t === undefined || t === null ? undefined : String(t));

function normaliseLink(link: UiLink): [string, ScopeLink] {
  if (Array.isArray(link)) {
    const [id, origin, originSlot, target, targetSlot, type] = link;
    return [String(id), { origin: String(origin), originSlot, target: String(target), targetSlot, type: typeString(type) }];
  }
  return [
    String(link.id),
    {
      origin: String(link.origin_id),
      originSlot: link.origin_slot,
      target: String(link.target_id),
      targetSlot: link.target_slot,
      type: typeString(link.type),
    },
  ];
}

const isGroupNodeType = (type: string): boolean => type.startsWith('workflow>') || type.startsWith('workflow/');

/** Builds the scope tree and the flat node list of a UI workflow: subgraphs and group nodes get `outer:inner` ids. */
export function flattenWorkflow(workflow: UiWorkflow, catalog: NodeCatalog): FlatGraph {
  const warnings: WorkflowWarning[] = [];
  const subgraphs = new Map<string, Subgraph>();
  const collect = (list: readonly Subgraph[]): void => {
    for (const def of list) {
      subgraphs.set(def.id, def);
      // Nested definitions are left unvalidated by the workflow schema (it is not recursive): check them here.
      const nested = (def.definitions?.subgraphs ?? []).flatMap((raw) => {
        const parsed = subgraphSchema.safeParse(raw);
        if (parsed.success) return [parsed.data];
        warnings.push(warning('unknown_subgraph', `A nested subgraph definition inside ${def.id} is invalid and was ignored`));
        return [];
      });
      collect(nested);
    }
  };
  collect(workflow.definitions?.subgraphs ?? []);
  const groupNodes = workflow.extra?.groupNodes ?? {};

  const nodes: FlatNode[] = [];
  const byId = new Map<string, FlatNode>();

  const makeScope = (prefix: string, saved: readonly UiNode[], links: readonly UiLink[], parent: Scope['parent']): Scope => ({
    prefix,
    nodes: new Map(saved.map((n) => [String(n.id), n])),
    links: new Map(links.map(normaliseLink)),
    children: new Map(),
    parent,
    instanceInput: (slot) => slot,
    outputs: new Map(),
  });

  const subgraphScope = (prefix: string, def: Subgraph, parent: NonNullable<Scope['parent']>): Scope => {
    const scope = makeScope(prefix, def.nodes, def.links ?? [], parent);
    scope.instanceInput = (slot) => {
      const name = def.inputs?.[slot]?.name;
      const index = parent.instance.inputs?.findIndex((i) => i.name === name) ?? -1;
      return index >= 0 ? index : slot;
    };
    for (const link of scope.links.values()) if (link.target === SUBGRAPH_OUTPUT) scope.outputs.set(link.targetSlot, link);
    return scope;
  };

  const visit = (scope: Scope, active: boolean, depth: number): void => {
    for (const [localId, node] of scope.nodes) {
      const id = scope.prefix + localId;
      const mode = node.mode ?? 0;
      const nodeActive = active && mode !== MODE_MUTED && mode !== MODE_BYPASS;
      const parent = { scope, instance: node };
      const def = subgraphs.get(node.type);
      const group = isGroupNodeType(node.type) ? groupNodes[node.type.slice('workflow>'.length)] : undefined;
      let child: Scope | undefined;
      let groupValues: Map<string, number> | undefined;
      if ((def || group) && depth >= MAX_DEPTH) {
        warnings.push(warning('link_cycle', `Subgraph nesting deeper than ${MAX_DEPTH} levels at node ${id}`, id));
      } else if (def) {
        child = subgraphScope(`${id}:`, def, parent);
      } else if (group) {
        ({ scope: child, offsets: groupValues } = groupScope(`${id}:`, group, parent, catalog));
      } else if (isGroupNodeType(node.type)) {
        warnings.push(warning('unknown_subgraph', `Group node ${id} (${node.type}) has no definition in extra.groupNodes`, id));
      }
      const flat: FlatNode = {
        id,
        kind: child ? 'instance' : VIRTUAL_NODE_TYPES.has(node.type) ? 'virtual' : 'node',
        node,
        scope,
        active: nodeActive,
        widgetSource: { nodeId: id, offset: 0 },
        widgetOverrides: undefined,
      };
      nodes.push(flat);
      byId.set(id, flat);
      if (!child) continue;
      scope.children.set(localId, child);
      const firstInner = nodes.length;
      // Only an active instance runs its inner nodes; a bypassed one passes its inputs through instead.
      visit(child, nodeActive, depth + 1);
      for (const inner of nodes.slice(firstInner)) {
        if (inner.scope !== child) continue;
        const offset = groupValues?.get(inner.id.slice(child.prefix.length));
        if (offset !== undefined) inner.widgetSource = { nodeId: id, offset };
      }
      if (def) applyProxyWidgets(node, id, child, byId);
    }
  };

  visit(makeScope('', workflow.nodes, workflow.links ?? [], undefined), true, 0);
  return { nodes, byId, warnings };
}

/** Newer frontends save promoted widget values on the instance, listed by `properties.proxyWidgets`. */
function applyProxyWidgets(instance: UiNode, instanceId: string, child: Scope, byId: Map<string, FlatNode>): void {
  const proxies = instance.properties?.proxyWidgets;
  const values = instance.widgets_values;
  if (!proxies || !Array.isArray(values)) return;
  proxies.forEach(([innerId, widgetName], index) => {
    const inner = byId.get(child.prefix + String(innerId));
    if (inner && index < values.length) {
      (inner.widgetOverrides ??= new Map()).set(widgetName, { value: values[index], source: { nodeId: instanceId, slot: index } });
    }
  });
}

/**
 * The inner graph of a legacy group node (`extra.groupNodes`): inner links are index based; every inner input
 * not linked inside becomes an instance input, every inner output not linked inside (or listed in `external`)
 * an instance output, in inner-node order; the instance's `widgets_values` are the inner nodes' values in order.
 */
function groupScope(prefix: string, def: GroupNodeDefinition, parent: NonNullable<Scope['parent']>, catalog: NodeCatalog) {
  const inner = def.nodes.map((n, position) => {
    const localId = String(n.index ?? position);
    const inputs = (n.inputs ?? []).map((i): UiInput => ({ ...i, link: null }));
    return { ...n, id: localId, inputs } as UiNode & { inputs: UiInput[] };
  });
  const scope: Scope = {
    prefix,
    nodes: new Map(inner.map((n) => [String(n.id), n as UiNode])),
    links: new Map(),
    children: new Map(),
    parent,
    instanceInput: (slot) => slot,
    outputs: new Map(),
  };
  const linkedOut = new Set<string>();
  (def.links ?? []).forEach((entry, k) => {
    const [o, os, t, ts] = entry;
    const target = scope.nodes.get(String(t));
    const input = target?.inputs?.[Number(ts)];
    if (!input) return;
    const id = `g${k}`;
    input.link = id;
    scope.links.set(id, { origin: String(o), originSlot: Number(os), target: String(t), targetSlot: Number(ts), type: typeString(input.type) });
    linkedOut.add(`${String(o)}/${Number(os)}`);
  });
  const external = new Set((def.external ?? []).map(([n, s]) => `${String(n)}/${Number(s)}`));

  const instanceInputs = parent.instance.inputs ?? [];
  const plainInstanceInputs = instanceInputs.flatMap((input, index) => (input.widget ? [] : [index]));
  let exposed = 0;
  const offsets = new Map<string, number>();
  let valueOffset = 0;
  for (const node of inner) {
    const localId = String(node.id);
    offsets.set(localId, valueOffset);
    valueOffset += Array.isArray(node.widgets_values) ? node.widgets_values.length : 0;
    node.inputs.forEach((input, slot) => {
      if (input.link !== null) return;
      const index = input.widget
        ? instanceInputs.findIndex((i) => i.widget && (i.widget.name === input.widget!.name || i.widget.name.endsWith(` ${input.widget!.name}`)))
        : plainInstanceInputs[exposed++];
      if (index === undefined || index < 0) return;
      const id = `in${localId}/${slot}`;
      input.link = id;
      scope.links.set(id, { origin: SUBGRAPH_INPUT, originSlot: index, target: localId, targetSlot: slot, type: typeString(input.type) });
    });
    const outputCount = catalog.get(node.type)?.output?.length ?? node.outputs?.length ?? 0;
    for (let slot = 0; slot < outputCount; slot++) {
      const key = `${localId}/${slot}`;
      if (linkedOut.has(key) && !external.has(key)) continue;
      scope.outputs.set(scope.outputs.size, { origin: localId, originSlot: slot, target: SUBGRAPH_OUTPUT, targetSlot: scope.outputs.size, type: undefined });
    }
  }
  // Values saved on the instance replace the definition's only when the instance holds them all.
  const saved = parent.instance.widgets_values;
  if (Array.isArray(saved) && saved.length >= valueOffset) {
    for (const node of inner) {
      const offset = offsets.get(String(node.id))!;
      const count = Array.isArray(node.widgets_values) ? node.widgets_values.length : 0;
      node.widgets_values = saved.slice(offset, offset + count);
    }
  } else {
    offsets.clear();
  }
  return { scope, offsets };
}

/**
 * Follows a link to the node output that really feeds it (protocol reference 3.4): through legacy Reroute nodes,
 * bypassed nodes (same-type input, same slot first), subgraph and group-node boundaries; a PrimitiveNode yields
 * its value. Returns undefined when nothing feeds it (the input is then left out).
 */
export function resolveLink(scope: Scope, linkId: string | number, warnings: WorkflowWarning[], hops = 0): Resolution | undefined {
  const link = scope.links.get(String(linkId));
  if (!link) {
    warnings.push(warning('dangling_link', `Link ${String(linkId)} is not in the workflow's links`, scope.prefix.slice(0, -1) || undefined));
    return undefined;
  }
  return resolveOutput(scope, link.origin, link.originSlot, link.type, warnings, hops + 1);
}

function resolveOutput(scope: Scope, origin: string, slot: number, type: string | undefined, warnings: WorkflowWarning[], hops: number): Resolution | undefined {
  // Counting hops is cheaper than remembering every step, and only a loop gets this far.
  if (hops > MAX_HOPS) {
    warnings.push(warning('link_cycle', `Links loop through node ${scope.prefix}${origin}`, scope.prefix + origin));
    return undefined;
  }
  if (origin === SUBGRAPH_INPUT) return resolveBoundaryInput(scope, slot, warnings, hops + 1);
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
    return { kind: 'value', value: values[0], source: { nodeId: scope.prefix + origin, slot: 0 } };
  }
  return { kind: 'link', nodeId: scope.prefix + origin, slot };
}

function resolveBypass(scope: Scope, node: UiNode, slot: number, type: string | undefined, warnings: WorkflowWarning[], hops: number): Resolution | undefined {
  const wanted = typeString(node.outputs?.[slot]?.type) ?? type;
  const inputs = node.inputs ?? [];
  const candidates = [slot, ...inputs.keys()];
  const index = candidates.find((i) => inputs[i] !== undefined && typeString(inputs[i]!.type) === wanted);
  const link = index === undefined ? undefined : inputs[index]!.link;
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
  return { kind: 'value', value: instance.widgets_values[position], source: { nodeId: instanceId, slot: position } };
}
