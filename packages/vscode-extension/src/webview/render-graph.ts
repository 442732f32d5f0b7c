import type { GraphView } from '../protocol/messages.js';
import { svg } from './dom.js';

const PAD = 20;
const TITLE_HEIGHT = 26;
const MIN_SCALE = 0.7;

/** The graph as SVG: one box per node (title, type, mode), a curve per link from output edge to input edge. */
export function renderGraph(graph: GraphView): SVGElement {
  const { x, y, width, height } = graph.bounds;
  const [w, h] = [width + 2 * PAD, height + 2 * PAD];
  const root = svg('svg', { viewBox: `${x - PAD} ${y - PAD} ${w} ${h}`, class: 'graph', role: 'img' });
  // Fits the editor's width, but never below 70 % of ComfyUI's own scale: then the container scrolls instead.
  root.style.minWidth = `${Math.round(w * MIN_SCALE)}px`;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const link of graph.links) {
    const a = byId.get(link.from)!;
    const b = byId.get(link.to)!;
    const [x1, y1, x2, y2] = [a.x + a.width, a.y + TITLE_HEIGHT / 2, b.x, b.y + TITLE_HEIGHT / 2];
    const bend = Math.max(40, Math.abs(x2 - x1) / 2);
    root.append(svg('path', { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, class: `link type-${link.type.toLowerCase()}` }));
  }
  for (const node of graph.nodes) {
    const g = svg('g', { class: `node ${node.mode}`, 'data-id': node.id });
    g.append(
      svg('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 6, class: 'body' }),
      svg('rect', { x: node.x, y: node.y, width: node.width, height: TITLE_HEIGHT, rx: 6, class: 'title-bar' }),
      svg('text', { x: node.x + 8, y: node.y + 18, class: 'title' }, `#${node.id} ${node.title}`),
      svg('text', { x: node.x + 8, y: node.y + TITLE_HEIGHT + 20, class: 'type' }, node.type + (node.mode === 'active' ? '' : ` (${node.mode})`)),
    );
    root.append(g);
  }
  return root;
}
