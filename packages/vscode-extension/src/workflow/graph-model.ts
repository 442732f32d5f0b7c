import { LiteGraphData, type NodeDefinitionView } from '../protocol/messages.js';
import type { ObjectInfo } from './core-adapter.js';
import { nodeDefinitions, usedTypes } from './node-definitions.js';
import type { Located, WorkflowDocument, WorkflowNode } from './workflow-doc.js';

const NODE_WIDTH = 300;
const COLUMN = NODE_WIDTH + 80;
const ROW_GAP = 50;
const SLOT_HEIGHT = 24;

/** The graph the editor loads and the definitions of every node class in it (subgraphs included). */
export function editorGraph(json: unknown, doc: WorkflowDocument, objectInfo: ObjectInfo): { graph: LiteGraphData; definitions: Record<string, NodeDefinitionView> } {
  const graph = graphData(json, doc, nodeDefinitions(doc.nodes.map((n) => n.type), objectInfo));
  return { graph, definitions: nodeDefinitions(usedTypes(graph), objectInfo) };
}

/**
 * What the graph editor loads: a UI-format file as it is (litegraph reads ComfyUI's format), an API-format file
 * as the equivalent graph, laid out in columns by link depth since the file has no positions.
 */
export function graphData(json: unknown, doc: WorkflowDocument, definitions: Record<string, NodeDefinitionView>): LiteGraphData {
  if (doc.format === 'ui') {
    const parsed = LiteGraphData.safeParse(json);
    if (parsed.success) return parsed.data;
  }
  return apiGraph(doc, definitions);
}

/** The input an API node's widget `index` sets: the definition's widget order, else the file's literal inputs in order. */
export function apiWidgetValue(node: WorkflowNode, definition: NodeDefinitionView | undefined, index: number): Located | undefined {
  if (!definition) return node.inputs.filter((i) => i.literal)[index]?.literal;
  const name = definition.widgets[index]?.name;
  return node.inputs.find((i) => i.name === name)?.literal;
}

function apiGraph(doc: WorkflowDocument, definitions: Record<string, NodeDefinitionView>): LiteGraphData {
  const known = new Set(doc.nodes.map((n) => n.id));
  const links = doc.links.filter((l) => known.has(l.from) && known.has(l.to));
  const byNode = new Map(doc.nodes.map((n) => [n.id, n]));
  const outputs = new Map<string, { name: string; type: string; links: number[] }[]>();
  const outputsOf = (node: WorkflowNode) => {
    let list = outputs.get(node.id);
    if (!list) {
      list = (definitions[node.type]?.outputs ?? []).map((o) => ({ ...o, links: [] }));
      outputs.set(node.id, list);
    }
    return list;
  };
  const inputs = new Map<string, { name: string; type: string; link: number }[]>();
  const linkRows = links.map((link, index) => {
    const id = index + 1;
    const list = outputsOf(byNode.get(link.from)!);
    while (list.length <= link.fromSlot) list.push({ name: `output ${list.length}`, type: '*', links: [] });
    const output = list[link.fromSlot]!;
    output.links.push(id);
    const targetInputs = inputs.get(link.to) ?? [];
    inputs.set(link.to, targetInputs);
    targetInputs.push({ name: link.toInput ?? `input ${targetInputs.length}`, type: output.type, link: id });
    return [id, link.from, link.fromSlot, link.to, targetInputs.length - 1, output.type];
  });
  const heights = new Map(doc.nodes.map((n) => [n.id, 40 + SLOT_HEIGHT * (Math.max(inputs.get(n.id)?.length ?? 0, outputsOf(n).length) + widgetValues(n, definitions[n.type]).length)]));
  const places = layered(doc.nodes, links, heights);
  const nodes = doc.nodes.map((node, order) => ({
    id: node.id,
    type: node.type,
    ...(node.title ? { title: node.title } : {}),
    pos: places.get(node.id)!,
    size: [NODE_WIDTH, heights.get(node.id)!],
    flags: {},
    order,
    mode: 0,
    inputs: inputs.get(node.id) ?? [],
    outputs: outputsOf(node),
    properties: {},
    widgets_values: widgetValues(node, definitions[node.type]),
  }));
  return { nodes, links: linkRows, groups: [], version: 0.4 };
}

/** The node's widget values in the order its widgets are made, with the frontend's values for control and upload widgets. */
function widgetValues(node: WorkflowNode, definition: NodeDefinitionView | undefined): unknown[] {
  if (!definition) return node.inputs.flatMap((i) => (i.literal ? [i.literal.value] : []));
  return definition.widgets.map((w, index) => (w.kind === 'control' ? 'fixed' : w.kind === 'upload' ? 'image' : apiWidgetValue(node, definition, index)?.value ?? null));
}

/** Column = length of the longest chain of links leading to the node (cycles are cut); rows stacked by height. */
function layered(nodes: WorkflowNode[], links: { from: string; to: string }[], heights: Map<string, number>): Map<string, [number, number]> {
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
  const columnBottom = new Map<number, number>();
  const places = new Map<string, [number, number]>();
  for (const node of nodes) {
    const column = depthOf(node.id);
    const y = columnBottom.get(column) ?? 0;
    columnBottom.set(column, y + heights.get(node.id)! + ROW_GAP);
    places.set(node.id, [column * COLUMN, y]);
  }
  return places;
}
