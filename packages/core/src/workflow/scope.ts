import type { IdIndex, WorkflowId } from './id-index.js';
import type { UiLink, UiNode } from './ui-schema.js';
import type { WidgetSlot } from './widgets.js';

/** Frontend-only nodes: they shape the graph in the editor and are never sent to the server. */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;
/** Inside a subgraph, links from its inputs start at node -10 and links to its outputs end at node -20. */
export const SUBGRAPH_INPUT = -10;
export const SUBGRAPH_OUTPUT = -20;

/** The node output a link starts from. */
export interface LinkSource {
  origin: WorkflowId;
  originSlot: number;
  type: string | undefined;
}

// Links stay as saved (array or object form) and are read through these: a 10,000-node workflow would
// otherwise copy every link into a normalised object.
export const linkId = (link: UiLink): WorkflowId => (Array.isArray(link) ? link[0] : link.id);
export const linkOrigin = (link: UiLink): WorkflowId => (Array.isArray(link) ? link[1] : link.origin_id);
export const linkOriginSlot = (link: UiLink): number => (Array.isArray(link) ? link[2] : link.origin_slot);
export const linkTarget = (link: UiLink): WorkflowId => (Array.isArray(link) ? link[3] : link.target_id);
export const linkTargetSlot = (link: UiLink): number => (Array.isArray(link) ? link[4] : link.target_slot);
export const linkType = (link: UiLink): string | undefined => typeString(Array.isArray(link) ? link[5] : link.type);

/** Where a literal value is saved in the UI workflow: a node (full id) and its `widgets_values` slot. */
export interface ValueSource {
  nodeId: string;
  slot: WidgetSlot;
}

/** One graph level: the root, a subgraph instance's definition, or a legacy group node's inner graph. */
export interface Scope {
  prefix: string;
  /** The level's nodes in saved order; `nodes` finds them by id (a repeated id names the last). */
  saved: readonly UiNode[];
  nodes: IdIndex<UiNode>;
  links: IdIndex<UiLink>;
  children: IdIndex<Scope>;
  parent: { scope: Scope; instance: UiNode } | undefined;
  /** Index in the instance's `inputs` of a boundary input slot. */
  instanceInput: (slot: number) => number | undefined;
  /** The inner node output that feeds a boundary output slot. */
  outputs: Map<number, LinkSource>;
}

export const typeString = (t: unknown): string | undefined => (t === undefined || t === null ? undefined : String(t));
