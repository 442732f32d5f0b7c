import { findNodeAtLocation, getNodeValue, parseTree, type JSONPath, type Node, type ParseError } from 'jsonc-parser';

/** A stretch of the document text, in UTF-16 offsets as VS Code counts them. */
export interface Span {
  offset: number;
  length: number;
}

export type { JSONPath, Node as JsonNode };

/** The syntax tree of a JSON document, or undefined when the text is not a single well-formed JSON value. */
export function parseJsonTree(text: string): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  return errors.length === 0 ? root : undefined;
}

export function spanOf(node: Node): Span {
  return { offset: node.offset, length: node.length };
}

export function child(node: Node | undefined, key: string | number): Node | undefined {
  return node ? findNodeAtLocation(node, [key]) : undefined;
}

/** The plain value of a tree node (undefined for a missing node). */
export function valueOf(node: Node | undefined): unknown {
  return node ? getNodeValue(node) : undefined;
}

/** An object's properties as [key, value node] pairs, in document order. */
export function entries(node: Node | undefined): [string, Node][] {
  if (node?.type !== 'object') return [];
  const out: [string, Node][] = [];
  for (const property of node.children ?? []) {
    const [key, value] = property.children ?? [];
    if (key && value) out.push([String(key.value), value]);
  }
  return out;
}

export function items(node: Node | undefined): Node[] {
  return node?.type === 'array' ? (node.children ?? []) : [];
}
