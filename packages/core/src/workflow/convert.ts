import { apiNode, isApiLink, type ApiPrompt } from './api-schema.js';
import { flattenWorkflow, type FlatGraph, type FlatNode } from './graph.js';
import { resolveLink } from './resolve.js';
import type { ValueSource } from './scope.js';
import { NodeCatalog, type InputDefinition, type ObjectInfo } from './object-info.js';
import { ensureParsed } from './parse.js';
import type { UiWorkflow } from './ui-schema.js';
import { copyJson } from './json-copy.js';
import { note, warning, type WorkflowNote, type WorkflowWarning } from './warnings.js';
import { mapWidgetValues, widgetDefault } from './widgets.js';

export interface ToApiPromptOptions {
  /** The target server's object_info; the bundled core definitions are used without it. */
  objectInfo?: ObjectInfo;
}

/** A node whose type neither the given object_info nor the bundled definitions know. */
export interface UnknownNode {
  nodeId: string;
  type: string;
  cnr_id?: string;
  aux_id?: string;
}

export interface ConversionResult {
  prompt: ApiPrompt;
  warnings: WorkflowWarning[];
  /** Info-level: what the conversion did as the frontend would, such as defaults for widgets added since the save. */
  notes: WorkflowNote[];
  unknownNodes: UnknownNode[];
}

/** A conversion plus, when asked for, where each literal input value is saved in the UI workflow (for editors). */
export interface Conversion extends ConversionResult {
  graph: FlatGraph;
  sources: Map<string, Map<string, ValueSource>> | undefined;
}

/** The server unwraps `{__value__: [...]}`; a bare array would read as a link. */
export const wrapValue = (value: unknown): unknown => (Array.isArray(value) ? { __value__: value } : value);

function unknownNode(flat: FlatNode): UnknownNode {
  const { cnr_id, aux_id } = flat.node.properties ?? {};
  return { nodeId: flat.id, type: flat.node.type, ...(cnr_id ? { cnr_id } : {}), ...(aux_id ? { aux_id } : {}) };
}

type Findings = Pick<ConversionResult, 'warnings' | 'notes'>;

/**
 * A widget the saved values do not reach (the node gained it after the workflow was saved) has its default on a
 * node the frontend creates, and is sent with it; without it the server rejects the prompt.
 */
function fillDefaults(flat: FlatNode, definitions: readonly InputDefinition[], inputs: Record<string, unknown>, notes: WorkflowNote[]): void {
  for (const d of definitions) {
    if (!d.widget || inputs[d.name] !== undefined) continue;
    const value = widgetDefault(d);
    if (value === undefined) continue;
    inputs[d.name] = wrapValue(value);
    notes.push(note('widget_default_used', `Node ${flat.id} (${flat.node.type}): "${d.name}" has no saved value (the node gained it after the workflow was saved); sent with its default ${JSON.stringify(value)}`, flat.id, d.name));
  }
}

function emitNode(flat: FlatNode, catalog: NodeCatalog, findings: Findings, sources: Map<string, ValueSource> | undefined) {
  const { warnings } = findings;
  const { node } = flat;
  const inputs: Record<string, unknown> = {};
  const definitions = catalog.inputs(node.type, node.inputs);
  if (definitions) {
    const nodeId = flat.widgetSource?.nodeId ?? flat.id;
    const offset = flat.widgetSource?.offset ?? 0;
    const mismatch = mapWidgetValues(node.widgets_values, definitions, (name, value, slot) => {
      inputs[name] = wrapValue(value);
      sources?.set(name, { nodeId, slot: typeof slot === 'number' ? slot + offset : slot });
    });
    if (mismatch) {
      warnings.push(warning('widget_values_mismatch', `Node ${flat.id} (${node.type}): widgets_values has more values than its definition has widgets`, flat.id, 'widgets_values'));
    }
    if (flat.widgetOverrides) {
      for (const [name, override] of flat.widgetOverrides) {
        inputs[name] = wrapValue(override.value);
        sources?.set(name, override.source);
      }
    }
  }
  for (const input of node.inputs ?? []) {
    if (input.link === null || input.link === undefined) continue;
    const resolved = resolveLink(flat.scope, input.link, warnings);
    if (!resolved) continue;
    const name = input.widget?.name ?? input.name;
    if (Array.isArray(resolved)) {
      inputs[name] = resolved;
      sources?.delete(name);
    } else {
      inputs[name] = wrapValue(resolved.value);
      if (resolved.source) sources?.set(name, resolved.source);
      else sources?.delete(name);
    }
  }
  if (definitions) fillDefaults(flat, definitions, inputs, findings.notes);
  return apiNode(inputs, node.type, node.title ?? catalog.get(node.type)?.display_name ?? node.type);
}

/**
 * Like the frontend: a link to a node that is not sent (muted, bypassed without a match) drops the input. Walks
 * the sent ids rather than the prompt's keys: enumerating 10,000 index-like keys makes a string of each.
 */
function dropLinksToUnsentNodes(prompt: ApiPrompt, sent: readonly string[], warnings: WorkflowWarning[]): void {
  for (const id of sent) {
    const node = prompt[id]!;
    for (const name in node.inputs) {
      const value = node.inputs[name];
      if (isApiLink(value) && !prompt[value[0]]) {
        delete node.inputs[name];
        warnings.push(warning('input_dropped', `Node ${id}: input "${name}" comes from node ${value[0]}, which is muted or not sent`, id, name));
      }
    }
  }
}

/**
 * Converts a parsed UI workflow with the given definitions; see `toApiPrompt`. The passes are separate functions
 * so that each is optimised on its own: one function with both loops was deoptimised on every call of a large
 * workflow (optimised mid-loop, before the second loop had run).
 */
export function convertUiWorkflow(workflow: UiWorkflow, catalog: NodeCatalog, trackSources = false): Conversion {
  const graph = flattenWorkflow(workflow, catalog);
  const warnings = [...graph.warnings];
  const notes: WorkflowNote[] = [];
  const unknownNodes: UnknownNode[] = [];
  const prompt: ApiPrompt = {};
  const sources = trackSources ? new Map<string, Map<string, ValueSource>>() : undefined;
  const sent = emitNodes(graph, catalog, { prompt, warnings, notes, unknownNodes, sources });
  dropLinksToUnsentNodes(prompt, sent, warnings);
  return { prompt, warnings, notes, unknownNodes, graph, sources };
}

/** Emits the active nodes into the prompt; returns their ids in emitted order. */
function emitNodes(graph: FlatGraph, catalog: NodeCatalog, out: Omit<Conversion, 'graph'>): string[] {
  const { prompt, warnings, unknownNodes, sources } = out;
  const sent: string[] = [];
  for (const flat of graph.nodes) {
    if (flat.kind !== 'node' || !flat.active) continue;
    if (!catalog.has(flat.node.type)) {
      unknownNodes.push(unknownNode(flat));
      warnings.push(warning('unknown_node_type', `Node ${flat.id}: type "${flat.node.type}" is not in the node definitions; its widget values were not mapped`, flat.id));
    }
    const nodeSources = sources ? new Map<string, ValueSource>() : undefined;
    sent.push(flat.id);
    prompt[flat.id] = emitNode(flat, catalog, out, nodeSources);
    if (nodeSources) sources!.set(flat.id, nodeSources);
  }
  return sent;
}

/** Where a `toApiPrompt` result came from, kept on it (not enumerable) so that analysis can use its graph. */
const MADE_FROM = Symbol('comfy-vast.conversion');

interface MadeFrom {
  workflow: UiWorkflow;
  objectInfo: ObjectInfo | undefined;
  conversion: Conversion;
}

/** The whole conversion behind a `toApiPrompt` result, if it was made of this workflow with this object_info. */
export function conversionOf(result: ConversionResult | undefined, workflow: UiWorkflow, objectInfo: ObjectInfo | undefined): Conversion | undefined {
  const from = (result as { [MADE_FROM]?: MadeFrom } | undefined)?.[MADE_FROM];
  return from && from.workflow === workflow && from.objectInfo === objectInfo ? from.conversion : undefined;
}

/**
 * Converts a workflow to the API format the way the ComfyUI frontend's graphToPrompt does (see docs/workflows.md).
 * `workflow` is JSON in either format or a `parseWorkflow` result; an API-format input is returned as a copy.
 * The result can be given to `analyzeWorkflow` (option `conversion`), which then does not convert again.
 * @throws ComfyVastError WORKFLOW_INVALID when the JSON is not a valid workflow.
 */
export function toApiPrompt(workflow: unknown, options: ToApiPromptOptions = {}): ConversionResult {
  const parsed = ensureParsed(workflow);
  const catalog = new NodeCatalog(options.objectInfo);
  if (parsed.format === 'api') {
    const unknownNodes = Object.entries(parsed.prompt).flatMap(([nodeId, n]) => (catalog.has(n.class_type) ? [] : [{ nodeId, type: n.class_type }]));
    const warnings = unknownNodes.map((n) => warning('unknown_node_type', `Node ${n.nodeId}: type "${n.type}" is not in the node definitions`, n.nodeId));
    return { prompt: copyJson(parsed.prompt), warnings, notes: [], unknownNodes };
  }
  const conversion = convertUiWorkflow(parsed.workflow, catalog);
  const { prompt, warnings, notes, unknownNodes } = conversion;
  const made: MadeFrom = { workflow: parsed.workflow, objectInfo: options.objectInfo, conversion };
  return Object.defineProperty({ prompt, warnings, notes, unknownNodes }, MADE_FROM, { value: made, enumerable: false });
}
