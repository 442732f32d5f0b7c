import type { GraphView } from '../protocol/messages.js';
import type { WorkflowDocument, WorkflowNode } from './workflow-doc.js';

const NODE_WIDTH = 220;
const NODE_HEIGHT = 90;
const COLUMN = NODE_WIDTH + 60;
const ROW = NODE_HEIGHT + 40;

/**
 * What the editor draws: nodes where the file puts them (UI format), or in columns by depth when the file has
 * no positions (API format); links whose two ends exist.
 */
export function graphModel(doc: WorkflowDocument): GraphView {
  const known = new Set(doc.nodes.map((n) => n.id));
  const links = doc.links
    .filter((l) => known.has(l.from) && known.has(l.to))
    .map((l) => ({ from: l.from, to: l.to, type: l.type ?? '' }));
  const placed = doc.nodes.every((n) => n.pos) ? doc.nodes.map(placeAsSaved) : layered(doc.nodes, links);
  const nodes = placed.map((p) => ({ ...p, mode: p.node.mode, id: p.node.id, type: p.node.type, title: p.node.title ?? p.node.type }));
  return { nodes: nodes.map(({ node: _node, ...view }) => view), links, bounds: bounds(nodes) };
}

interface Placed {
  node: WorkflowNode;
  x: number;
  y: number;
  width: number;
  height: number;
}

function placeAsSaved(node: WorkflowNode): Placed {
  const [x, y] = node.pos ?? [0, 0];
  const [width, height] = node.size ?? [NODE_WIDTH, NODE_HEIGHT];
  return { node, x, y, width, height };
}

/** Column = length of the longest chain of links leading to the node (cycles are cut). */
function layered(nodes: WorkflowNode[], links: { from: string; to: string }[]): Placed[] {
  const sources = new Map<string, string[]>();
  for (const l of links) sources.set(l.to, [...(sources.get(l.to) ?? []), l.from]);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const cached = depth.get(id);
    if (cached !== undefined) return cached;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...(sources.get(id) ?? []).map(depthOf)) + 1;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  return nodes.map((node) => {
    const column = depthOf(node.id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    return { node, x: column * COLUMN, y: row * ROW, width: NODE_WIDTH, height: NODE_HEIGHT };
  });
}

function bounds(nodes: { x: number; y: number; width: number; height: number }[]): GraphView['bounds'] {
  if (nodes.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
  const x = Math.min(...nodes.map((n) => n.x));
  const y = Math.min(...nodes.map((n) => n.y));
  const right = Math.max(...nodes.map((n) => n.x + n.width));
  const bottom = Math.max(...nodes.map((n) => n.y + n.height));
  return { x, y, width: right - x, height: bottom - y };
}
