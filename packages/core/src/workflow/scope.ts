import type { UiNode } from './ui-schema.js';
import type { WidgetSlot } from './widgets.js';

/** Frontend-only nodes: they shape the graph in the editor and are never sent to the server. */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;
/** Inside a subgraph, links from its inputs start at node -10 and links to its outputs end at node -20. */
export const SUBGRAPH_INPUT = '-10';
export const SUBGRAPH_OUTPUT = '-20';

export interface ScopeLink {
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

export const typeString = (t: unknown): string | undefined => (t === undefined || t === null ? undefined : String(t));
