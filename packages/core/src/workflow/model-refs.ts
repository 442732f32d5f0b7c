import type { ApiPrompt } from './api-schema.js';
import { isApiLink } from './api-schema.js';
import { hasModelExtension, loaderFolder } from './model-folders.js';
import type { FlatGraph } from './graph.js';
import type { InputDefinition, NodeCatalog } from './object-info.js';

/** A model file a prompt refers to. `folder` is null when a custom node names it without saying where. */
export interface ModelReference {
  name: string;
  folder: string | null;
  nodeId: string;
  input: string;
}

const EMBEDDING = 'embedding:';
// What ends an embedding name in prompt text: whitespace and the punctuation of weighting and lists.
const NAME_END = /[\s,()[\]{}<>:|]/;
const WORD_CHAR = /\w/;

/** Names after `embedding:` in prompt text, as ComfyUI's tokenizer reads them (a word boundary before the marker). */
export function embeddingNames(text: string): string[] {
  const names: string[] = [];
  // indexOf rather than a global regex: no iterator or match array per prompt of a large workflow.
  let at = text.indexOf(EMBEDDING);
  while (at >= 0) {
    const start = at + EMBEDDING.length;
    let end = start;
    if (at === 0 || !WORD_CHAR.test(text[at - 1]!)) {
      while (end < text.length && !NAME_END.test(text[end]!)) end++;
      if (end > start) names.push(text.slice(start, end));
    }
    // Past the name, as a global regex goes on after its match.
    at = text.indexOf(EMBEDDING, end);
  }
  return names;
}

function unwrap(value: unknown): unknown {
  return value && typeof value === 'object' && '__value__' in value ? (value as { __value__: unknown }).__value__ : value;
}

/**
 * Every model file an API prompt needs: core loader inputs (protocol reference 4.1), `embedding:` references in
 * any text, and, outside the loader table, combo values (any string on an unknown node) with a model extension.
 */
export function findModelReferences(prompt: ApiPrompt, catalog: NodeCatalog): ModelReference[] {
  const refs: ModelReference[] = [];
  // for-in rather than Object.entries: no pair array per node and input on large workflows.
  for (const nodeId in prompt) {
    const node = prompt[nodeId]!;
    let definitions: InputDefinition[] | undefined | null = null;
    for (const input in node.inputs) {
      const raw = node.inputs[input];
      const value = unwrap(raw);
      if (typeof value !== 'string' || isApiLink(raw)) continue;
      if (value.includes(EMBEDDING)) {
        for (const name of embeddingNames(value)) refs.push({ name, folder: 'embeddings', nodeId, input });
      }
      const folder = loaderFolder(node.class_type, input);
      if (folder) {
        refs.push({ name: value, folder, nodeId, input });
        continue;
      }
      if (!hasModelExtension(value)) continue;
      if (definitions === null) definitions = catalog.inputs(node.class_type);
      const definition = definitions?.find((d) => d.name === input);
      if (!definitions || definition?.type === 'COMBO') refs.push({ name: value, folder: null, nodeId, input });
    }
  }
  return refs;
}

/**
 * Model files in the saved widget values of active nodes that have no definition: their values cannot be mapped
 * to input names, so they are not in the converted prompt, yet they are what such custom nodes load.
 */
export function findUnmappedModelReferences(graph: FlatGraph, catalog: NodeCatalog): ModelReference[] {
  const refs: ModelReference[] = [];
  for (const flat of graph.nodes) {
    if (flat.kind !== 'node' || !flat.active || catalog.has(flat.node.type)) continue;
    const saved = flat.node.widgets_values ?? [];
    for (const [slot, value] of Object.entries(saved)) {
      if (typeof value === 'string' && hasModelExtension(value)) refs.push({ name: value, folder: null, nodeId: flat.id, input: `widgets_values.${slot}` });
    }
  }
  return refs;
}
