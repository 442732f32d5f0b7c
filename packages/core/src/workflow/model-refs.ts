import type { ApiPrompt } from './api-schema.js';
import { isApiLink } from './api-schema.js';
import { LOADER_INPUTS, hasModelExtension } from './model-folders.js';
import type { NodeCatalog } from './object-info.js';

/** A model file a prompt refers to. `folder` is null when a custom node names it without saying where. */
export interface ModelReference {
  name: string;
  folder: string | null;
  nodeId: string;
  input: string;
}

const EMBEDDING = /\bembedding:([^\s,()[\]{}<>:|]+)/gi;

function unwrap(value: unknown): unknown {
  return value && typeof value === 'object' && '__value__' in value ? (value as { __value__: unknown }).__value__ : value;
}

/**
 * Every model file an API prompt needs: core loader inputs (protocol reference 4.1), `embedding:` references in
 * any text, and, outside the loader table, combo values (any string on an unknown node) with a model extension.
 */
export function findModelReferences(prompt: ApiPrompt, catalog: NodeCatalog): ModelReference[] {
  const refs: ModelReference[] = [];
  for (const [nodeId, node] of Object.entries(prompt)) {
    const loader = LOADER_INPUTS[node.class_type];
    const definitions = catalog.inputs(node.class_type);
    for (const [input, raw] of Object.entries(node.inputs)) {
      const value = unwrap(raw);
      if (typeof value !== 'string' || isApiLink(raw)) continue;
      for (const match of value.matchAll(EMBEDDING)) refs.push({ name: match[1]!, folder: 'embeddings', nodeId, input });
      const folder = loader?.[input];
      if (folder) {
        refs.push({ name: value, folder, nodeId, input });
        continue;
      }
      if (!hasModelExtension(value)) continue;
      const definition = definitions?.find((d) => d.name === input);
      if (!definitions || definition?.type === 'COMBO') refs.push({ name: value, folder: null, nodeId, input });
    }
  }
  return refs;
}
