import { groupScope } from './group-node.js';
import type { NodeCatalog } from './object-info.js';
import { MODE_BYPASS, MODE_MUTED, SUBGRAPH_OUTPUT, VIRTUAL_NODE_TYPES, typeString, type Scope, type ScopeLink, type ValueSource } from './scope.js';
import { subgraphSchema, type Subgraph, type UiLink, type UiNode, type UiWorkflow } from './ui-schema.js';
import { warning, type WorkflowWarning } from './warnings.js';

const MAX_DEPTH = 32;

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

