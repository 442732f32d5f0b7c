import { groupScope } from './group-node.js';
import type { NodeCatalog } from './object-info.js';
import {
  MODE_BYPASS,
  MODE_MUTED,
  SUBGRAPH_OUTPUT,
  VIRTUAL_NODE_TYPES,
  linkId,
  linkOrigin,
  linkOriginSlot,
  linkTarget,
  linkTargetSlot,
  linkType,
  type Scope,
  type ValueSource,
} from './scope.js';
import { IdIndex, sameId } from './id-index.js';
import { subgraphSchema, type Subgraph, type UiLink, type UiNode, type UiWorkflow } from './ui-schema.js';
import { warning, type WorkflowWarning } from './warnings.js';

const MAX_DEPTH = 32;

export type FlatNodeKind = 'node' | 'virtual' | 'instance';

/**
 * One node of the flattened graph. A class rather than an object literal: V8 moves literal allocation sites whose
 * objects outlive a young-generation collection straight into the old generation, which a large workflow's
 * nodes do, and that made conversion of 10,000 nodes several times slower per node than of 1,000.
 */
export class FlatNode {
  /** Where this node's `widgets_values` are saved when not on the node itself: group-node instances hold their inner nodes' values. */
  widgetSource: { nodeId: string; offset: number } | undefined = undefined;
  /** Values promoted onto a subgraph instance (`properties.proxyWidgets`), by widget name. */
  widgetOverrides: Map<string, { value: unknown; source: ValueSource }> | undefined = undefined;

  constructor(
    readonly id: string,
    readonly kind: FlatNodeKind,
    readonly node: UiNode,
    readonly scope: Scope,
    /** The node and every enclosing instance are neither muted nor bypassed. */
    readonly active: boolean,
  ) {}
}

export interface FlatGraph {
  nodes: FlatNode[];
  warnings: WorkflowWarning[];
}

function nodeIndex(saved: readonly UiNode[]): IdIndex<UiNode> {
  const nodes = new IdIndex<UiNode>(saved.length);
  for (const node of saved) nodes.set(node.id, node);
  return nodes;
}

function linkIndex(links: readonly UiLink[]): IdIndex<UiLink> {
  const index = new IdIndex<UiLink>(links.length);
  for (const link of links) index.set(linkId(link), link);
  return index;
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

  const makeScope = (prefix: string, saved: readonly UiNode[], links: readonly UiLink[], parent: Scope['parent']): Scope => ({
    prefix,
    saved,
    nodes: nodeIndex(saved),
    links: linkIndex(links),
    children: new IdIndex(),
    parent,
    instanceInput: (slot) => slot,
    outputs: new Map(),
  });

  const subgraphScope = (prefix: string, def: Subgraph, parent: NonNullable<Scope['parent']>): Scope => {
    const links = def.links ?? [];
    const scope = makeScope(prefix, def.nodes, links, parent);
    scope.instanceInput = (slot) => {
      const name = def.inputs?.[slot]?.name;
      const index = parent.instance.inputs?.findIndex((i) => i.name === name) ?? -1;
      return index >= 0 ? index : slot;
    };
    for (const link of links) {
      // The last link saved with an id is the one that counts, as everywhere else.
      if (scope.links.get(linkId(link)) !== link || !sameId(linkTarget(link), SUBGRAPH_OUTPUT)) continue;
      scope.outputs.set(linkTargetSlot(link), { origin: linkOrigin(link), originSlot: linkOriginSlot(link), type: linkType(link) });
    }
    return scope;
  };

  const visit = (scope: Scope, active: boolean, depth: number): void => {
    for (const node of scope.saved) {
      // A repeated id names the last node saved with it, as a lookup by id does, and the node takes that place.
      if (scope.nodes.get(node.id) !== node) continue;
      const id = scope.prefix + String(node.id);
      const mode = node.mode ?? 0;
      const nodeActive = active && mode !== MODE_MUTED && mode !== MODE_BYPASS;
      const def = subgraphs.get(node.type);
      const group = isGroupNodeType(node.type) ? groupNodes[node.type.slice('workflow>'.length)] : undefined;
      let child: Scope | undefined;
      let groupValues: Map<string, number> | undefined;
      if ((def || group) && depth >= MAX_DEPTH) {
        warnings.push(warning('link_cycle', `Subgraph nesting deeper than ${MAX_DEPTH} levels at node ${id}`, id));
      } else if (def) {
        child = subgraphScope(`${id}:`, def, { scope, instance: node });
      } else if (group) {
        ({ scope: child, offsets: groupValues } = groupScope(`${id}:`, group, { scope, instance: node }, catalog));
      } else if (isGroupNodeType(node.type)) {
        warnings.push(warning('unknown_subgraph', `Group node ${id} (${node.type}) has no definition in extra.groupNodes`, id));
      }
      nodes.push(new FlatNode(id, child ? 'instance' : VIRTUAL_NODE_TYPES.has(node.type) ? 'virtual' : 'node', node, scope, nodeActive));
      if (!child) continue;
      scope.children.set(node.id, child);
      const firstInner = nodes.length;
      // Only an active instance runs its inner nodes; a bypassed one passes its inputs through instead.
      visit(child, nodeActive, depth + 1);
      const inner = new Map<string, FlatNode>();
      for (let k = firstInner; k < nodes.length; k++) if (nodes[k]!.scope === child) inner.set(nodes[k]!.id.slice(child.prefix.length), nodes[k]!);
      if (groupValues) {
        for (const [localInner, offset] of groupValues) {
          const flat = inner.get(localInner);
          if (flat) flat.widgetSource = { nodeId: id, offset };
        }
      }
      if (def) applyProxyWidgets(node, id, inner);
    }
  };

  visit(makeScope('', workflow.nodes, workflow.links ?? [], undefined), true, 0);
  return { nodes, warnings };
}

/** Newer frontends save promoted widget values on the instance, listed by `properties.proxyWidgets`. */
function applyProxyWidgets(instance: UiNode, instanceId: string, inner: Map<string, FlatNode>): void {
  const proxies = instance.properties?.proxyWidgets;
  const values = instance.widgets_values;
  if (!proxies || !Array.isArray(values)) return;
  proxies.forEach(([innerId, widgetName], index) => {
    const flat = inner.get(String(innerId));
    if (flat && index < values.length) {
      (flat.widgetOverrides ??= new Map()).set(widgetName, { value: values[index], source: { nodeId: instanceId, slot: index } });
    }
  });
}

