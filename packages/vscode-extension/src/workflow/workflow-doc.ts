import { child, entries, items, parseJsonTree, spanOf, valueOf, type JSONPath, type JsonNode, type Span } from './json-tree.js';

export type WorkflowFormat = 'ui' | 'api';
/** ComfyUI node modes: 0 always, 2 never (muted), 4 bypass; the rest run like 0 for our purposes. */
export type NodeMode = 'active' | 'muted' | 'bypassed';

/** A value written in the document, with where it is. */
export interface Located<T = unknown> {
  value: T;
  span: Span;
  path: JSONPath;
}

export interface WorkflowInput {
  name: string;
  /** UI format: the input's declared type. */
  type?: string;
  /** The node this input is linked from (API format: the link's source id; UI format: resolved through `links`). */
  linkId?: number;
  span: Span;
  /** API format: the literal value when the input is not a link. */
  literal?: Located;
}

export interface WorkflowNode {
  id: string;
  type: string;
  title?: string;
  mode: NodeMode;
  pos?: [number, number];
  size?: [number, number];
  path: JSONPath;
  span: Span;
  typeSpan: Span;
  inputs: WorkflowInput[];
  /** UI format: `widgets_values` when it is an array, in order. */
  widgets: Located[];
}

export interface WorkflowLink {
  /** UI format: the link id; API format: `<target>.<input>`. */
  id: string;
  from: string;
  fromSlot: number;
  to: string;
  /** UI format: the target slot; API format: undefined (inputs are named). */
  toSlot?: number;
  toInput?: string;
  type?: string;
  span: Span;
}

/** A workflow file as a graph whose every piece knows its place in the text. */
export interface WorkflowDocument {
  format: WorkflowFormat;
  nodes: WorkflowNode[];
  links: WorkflowLink[];
}

/** Reads a UI-format or API-format workflow from JSON text; undefined when the text is neither. */
export function readWorkflowDocument(text: string): WorkflowDocument | undefined {
  const root = parseJsonTree(text);
  if (root?.type !== 'object') return undefined;
  const nodes = child(root, 'nodes');
  if (nodes?.type === 'array' && child(root, 'links')?.type === 'array') return readUi(root);
  const api = entries(root);
  if (api.length > 0 && api.every(([, node]) => typeof valueOf(child(node, 'class_type')) === 'string')) return readApi(api);
  return undefined;
}

const MODES: Record<number, NodeMode> = { 2: 'muted', 4: 'bypassed' };

function pair(node: JsonNode | undefined): [number, number] | undefined {
  const value = valueOf(node);
  if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'number') return [value[0], value[1]];
  if (value && typeof value === 'object' && typeof (value as Record<string, unknown>)['0'] === 'number') {
    const v = value as Record<string, number>;
    return [v['0'] ?? 0, v['1'] ?? 0];
  }
  return undefined;
}

function located(node: JsonNode, path: JSONPath): Located {
  return { value: valueOf(node), span: spanOf(node), path };
}

function readUi(root: JsonNode): WorkflowDocument {
  const nodes: WorkflowNode[] = items(child(root, 'nodes')).flatMap((node, index) => {
    const typeNode = child(node, 'type');
    const id = valueOf(child(node, 'id'));
    if (typeof valueOf(typeNode) !== 'string' || (typeof id !== 'number' && typeof id !== 'string') || !typeNode) return [];
    const path: JSONPath = ['nodes', index];
    const inputs = items(child(node, 'inputs')).map((input) => {
      const link = valueOf(child(input, 'link'));
      return {
        name: String(valueOf(child(input, 'name')) ?? ''),
        type: String(valueOf(child(input, 'type')) ?? ''),
        ...(typeof link === 'number' ? { linkId: link } : {}),
        span: spanOf(child(input, 'link') ?? input),
      };
    });
    const title = valueOf(child(node, 'title'));
    return [
      {
        id: String(id),
        type: String(valueOf(typeNode)),
        ...(typeof title === 'string' ? { title } : {}),
        mode: MODES[Number(valueOf(child(node, 'mode')))] ?? 'active',
        pos: pair(child(node, 'pos')),
        size: pair(child(node, 'size')),
        path,
        span: spanOf(node),
        typeSpan: spanOf(typeNode),
        inputs,
        widgets: items(child(node, 'widgets_values')).map((w, i) => located(w, [...path, 'widgets_values', i])),
      },
    ];
  });
  const links = items(child(root, 'links')).flatMap((link): WorkflowLink[] => {
    const v = valueOf(link);
    // v0.4 writes links as arrays, v1 as objects with the same fields.
    const [id, from, fromSlot, to, toSlot, type] = Array.isArray(v)
      ? v
      : v && typeof v === 'object'
        ? ['id', 'origin_id', 'origin_slot', 'target_id', 'target_slot', 'type'].map((k) => (v as Record<string, unknown>)[k])
        : [];
    if (id === undefined || from === undefined || to === undefined) return [];
    return [{ id: String(id), from: String(from), fromSlot: Number(fromSlot), to: String(to), toSlot: Number(toSlot), type: String(type ?? ''), span: spanOf(link) }];
  });
  return { format: 'ui', nodes, links };
}

function readApi(api: [string, JsonNode][]): WorkflowDocument {
  const links: WorkflowLink[] = [];
  const nodes = api.map(([id, node]): WorkflowNode => {
    const typeNode = child(node, 'class_type') as JsonNode;
    const inputs = entries(child(node, 'inputs')).map(([name, value]): WorkflowInput => {
      const v = valueOf(value);
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number') {
        links.push({ id: `${id}.${name}`, from: v[0], fromSlot: v[1], to: id, toInput: name, span: spanOf(value) });
        return { name, span: spanOf(value) };
      }
      return { name, span: spanOf(value), literal: located(value, [id, 'inputs', name]) };
    });
    const title = valueOf(child(child(node, '_meta'), 'title'));
    return {
      id,
      type: String(valueOf(typeNode)),
      ...(typeof title === 'string' ? { title } : {}),
      mode: 'active',
      path: [id],
      span: spanOf(node),
      typeSpan: spanOf(typeNode),
      inputs,
      widgets: [],
    };
  });
  return { format: 'api', nodes, links };
}
