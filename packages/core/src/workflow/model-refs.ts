import type { ApiPrompt } from './api-schema.js';
import { isApiLink } from './api-schema.js';
import { LOADER_INPUTS, hasModelExtension } from './model-folders.js';
import type { FlatGraph } from './graph.js';
import type { NodeCatalog } from './object-info.js';

/** A model file a prompt refers to. `folder` is null when a custom node names it without saying where. */
export interface ModelReference {
  name: string;
  folder: string | null;
  nodeId: string;
  input: string;
}

const EMBEDDING = /\bembedding:([^\s,()[\]{}<>:|]+)/g;

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
      if (value.includes('embedding:')) {
        for (const match of value.matchAll(EMBEDDING)) refs.push({ name: match[1]!, folder: 'embeddings', nodeId, input });
      }
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
