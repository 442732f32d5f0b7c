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

/** Every subgraph definition by id, nested ones included (validated here: the workflow schema does not recurse). */
function collectSubgraphs(workflow: UiWorkflow, warnings: WorkflowWarning[]): Map<string, Subgraph> {
  const subgraphs = new Map<string, Subgraph>();
  // A work list in saved order, not recursion: definitions may nest to any depth.
  const pending = [...(workflow.definitions?.subgraphs ?? [])].reverse();
  while (pending.length > 0) {
    const def = pending.pop()!;
    subgraphs.set(def.id, def);
    const nested = def.definitions?.subgraphs ?? [];
    const valid: Subgraph[] = [];
    for (const raw of nested) {
      const parsed = subgraphSchema.safeParse(raw);
      if (parsed.success) valid.push(parsed.data);
      else warnings.push(warning('unknown_subgraph', `A nested subgraph definition inside ${def.id} is invalid and was ignored`));
    }
    for (let i = valid.length - 1; i >= 0; i--) pending.push(valid[i]!);
  }
  return subgraphs;
}

function makeScope(prefix: string, saved: readonly UiNode[], links: readonly UiLink[], parent: Scope['parent']): Scope {
  return {
    prefix,
    saved,
    nodes: nodeIndex(saved),
    links: linkIndex(links),
    children: new IdIndex(),
    parent,
    instanceInput: (slot) => slot,
    outputs: new Map(),
  };
}

function subgraphScope(prefix: string, def: Subgraph, parent: NonNullable<Scope['parent']>): Scope {
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
}

/** One graph level being walked: its nodes are taken in saved order, and `done` runs once all are flattened. */
interface Level {
  scope: Scope;
  active: boolean;
  next: number;
  /** The definition this level instantiates (none at the root): on the path while the level is walked. */
  definition: object | undefined;
  done: (() => void) | undefined;
}

/**
 * Builds the scope tree and the flat node list of a UI workflow: subgraphs and group nodes get `outer:inner` ids.
 * Nodes come in saved order, each instance followed by its inner nodes. A work list rather than recursion, so
 * that instances nest to any depth; an instance of a definition that contains itself is reported and not entered.
 */
export function flattenWorkflow(workflow: UiWorkflow, catalog: NodeCatalog): FlatGraph {
  const warnings: WorkflowWarning[] = [];
  const subgraphs = collectSubgraphs(workflow, warnings);
  const groupNodes = workflow.extra?.groupNodes ?? {};
  const nodes: FlatNode[] = [];
  const path = new Set<object>();
  const levels: Level[] = [{ scope: makeScope('', workflow.nodes, workflow.links ?? [], undefined), active: true, next: 0, definition: undefined, done: undefined }];

  while (levels.length > 0) {
    const level = levels[levels.length - 1]!;
    const { scope, active } = level;
    if (level.next >= scope.saved.length) {
      levels.pop();
      if (level.definition) path.delete(level.definition);
      level.done?.();
      continue;
    }
    const node = scope.saved[level.next++]!;
    // A repeated id names the last node saved with it, as a lookup by id does, and the node takes that place.
    if (scope.nodes.get(node.id) !== node) continue;
    const id = scope.prefix + String(node.id);
    const mode = node.mode ?? 0;
    const nodeActive = active && mode !== MODE_MUTED && mode !== MODE_BYPASS;
    const def = subgraphs.get(node.type);
    const group = isGroupNodeType(node.type) ? groupNodes[node.type.slice('workflow>'.length)] : undefined;
    const definition = def ?? group;
    let child: Scope | undefined;
    let groupValues: Map<string, number> | undefined;
    if (definition && path.has(definition)) {
      warnings.push(warning('link_cycle', `Node ${id} is an instance of ${node.type}, which contains itself`, id));
    } else if (def) {
      child = subgraphScope(`${id}:`, def, { scope, instance: node });
    } else if (group) {
      ({ scope: child, offsets: groupValues } = groupScope(`${id}:`, group, { scope, instance: node }, catalog));
    } else if (isGroupNodeType(node.type)) {
      warnings.push(warning('unknown_subgraph', `Group node ${id} (${node.type}) has no definition in extra.groupNodes`, id));
    }
    const kind = definition ? 'instance' : VIRTUAL_NODE_TYPES.has(node.type) ? 'virtual' : 'node';
    nodes.push(new FlatNode(id, kind, node, scope, nodeActive));
    if (!child) continue;
    scope.children.set(node.id, child);
    const firstInner = nodes.length;
    const inner = child;
    path.add(definition!);
    // Only an active instance runs its inner nodes; a bypassed one passes its inputs through instead.
    levels.push({
      scope: inner,
      active: nodeActive,
      next: 0,
      definition,
      done: () => {
        const own = new Map<string, FlatNode>();
        for (let k = firstInner; k < nodes.length; k++) if (nodes[k]!.scope === inner) own.set(nodes[k]!.id.slice(inner.prefix.length), nodes[k]!);
        if (groupValues) {
          for (const [localInner, offset] of groupValues) {
            const flat = own.get(localInner);
            if (flat) flat.widgetSource = { nodeId: id, offset };
          }
        }
        if (def) applyProxyWidgets(node, id, own);
      },
    });
  }
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

