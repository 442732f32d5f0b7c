import type { Located } from './workflow-doc.js';

/** A replacement of one stretch of the document text. */
export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

/**
 * The smallest edit that sets one value: only the value's own characters change, so the user's indentation,
 * key order and line breaks stay as they were. Undefined when the value is already the one asked for.
 */
export function replaceValue(target: Located, value: string | number | boolean): TextEdit | undefined {
  if (target.value === value) return undefined;
  return { offset: target.span.offset, length: target.span.length, newText: JSON.stringify(value) };
}

/**
 * The edits that set every place holding one parameter (several samplers share the seed, for instance). Places
 * met twice (a PrimitiveNode feeding two nodes is one value in the text) give one edit: VS Code refuses a
 * WorkspaceEdit whose edits overlap.
 */
export function replaceValues(targets: Located[], value: string | number): TextEdit[] {
  const bySpan = new Map(targets.map((t) => [`${t.span.offset}:${t.span.length}`, t]));
  return [...bySpan.values()].flatMap((t) => replaceValue(t, value) ?? []);
}

export function applyEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.offset) + edit.newText + text.slice(edit.offset + edit.length);
}
