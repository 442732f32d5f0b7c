import type { ApiPrompt } from './api-schema.js';
import { findCatalogueEntry } from './catalogue.js';
import { classifyComplexity, complexityFigures, type Complexity, type ComplexityFigures } from './complexity.js';
import { conversionOf, convertUiWorkflow, type ConversionResult } from './convert.js';
import { estimateGenerationTime } from './estimate.js';
import type { FlatGraph } from './graph.js';
import { loaderFolder, modelType } from './model-folders.js';
import { findModelReferences, findUnmappedModelReferences, type ModelReference } from './model-refs.js';
import { NodeCatalog, type ObjectInfo } from './object-info.js';
import { ensureParsed } from './parse.js';
import type { ModelFile, UiNode, UiWorkflow } from './ui-schema.js';
import { warning, type WorkflowNote, type WorkflowWarning } from './warnings.js';

export interface AnalyzeOptions {
  /** The server's object_info; the bundled core definitions are used without it. */
  objectInfo?: ObjectInfo;
  /** The server's model lists by folder (`GET /models/{folder}`), e.g. `{checkpoints: ["sd_xl_base_1.0.safetensors"]}`. */
  serverModels?: Record<string, readonly string[]>;
  /** The server's GPU name, e.g. "RTX 4090". */
  gpu?: string;
  /** Durations in seconds of past runs of similar workflows on this server. */
  pastTimings?: readonly number[];
  /**
   * `toApiPrompt`'s result for the same workflow (the same parsed object, or the same JSON when it was valid) and
   * the same `objectInfo`, unchanged since: the analysis then does not convert the workflow again. Another
   * workflow's conversion is not used.
   */
  conversion?: ConversionResult;
}

export interface RequiredModel {
  name: string;
  type: string;
  folder: string | null;
  size: string | null;
  available: boolean;
  nodeIds: string[];
}

export interface MissingModel {
  name: string;
  type: string;
  folder: string | null;
  size: string | null;
  downloadUrl: string | null;
  sha256: string | null;
  /** Where the URL comes from: the workflow's own declarations, the bundled catalogue, or nowhere. */
  source: 'workflow' | 'catalogue' | null;
}

export interface MissingNode {
  type: string;
  nodeIds: string[];
  cnr_id?: string;
  aux_id?: string;
}

export interface WorkflowAnalysis {
  format: 'ui' | 'api';
  requiredModels: RequiredModel[];
  missingModels: MissingModel[];
  missingNodes: MissingNode[];
  complexity: Complexity;
  figures: ComplexityFigures;
  estimatedGenerationTime: string;
  estimatedSeconds: { min: number; max: number };
  /** False when no server model lists were given: then `available` is false for every model. */
  checkedAgainstServer: boolean;
  warnings: WorkflowWarning[];
  /** Info-level notes of the conversion (defaults sent for widgets the saved values do not reach). */
  notes: WorkflowNote[];
}

const slash = (name: string): string => (name.includes('\\') ? name.replaceAll('\\', '/') : name);
const stripExtension = (name: string): string => name.replace(/\.[^./\\]+$/, '');

/** Looks a reference up in the server's lists; a match only after normalising separators still counts. */
function lookUp(ref: ModelReference, serverModels: Record<string, readonly string[]>): { found: boolean; folder: string | null } {
  const folders = ref.folder ? [ref.folder] : Object.keys(serverModels);
  const wanted = slash(ref.name);
  const same = ref.folder === 'embeddings' ? (a: string) => stripExtension(slash(a)) === stripExtension(wanted) : (a: string) => slash(a) === wanted;
  for (const folder of folders) if ((serverModels[folder] ?? []).some(same)) return { found: true, folder };
  return { found: false, folder: ref.folder };
}

function declaredModels(workflow: UiWorkflow | undefined, graph: FlatGraph | undefined): ModelFile[] {
  if (!workflow || !graph) return [];
  const declared = [...(workflow.models ?? [])];
  for (const n of graph.nodes) if (n.node.properties?.models) declared.push(...n.node.properties.models);
  return declared;
}

function nodeWarnings(prompt: ApiPrompt, catalog: NodeCatalog): WorkflowWarning[] {
  const warnings: WorkflowWarning[] = [];
  let outputs = 0;
  for (const id in prompt) {
    const node = prompt[id]!;
    const info = catalog.get(node.class_type);
    if (!info) continue;
    if (info.output_node) outputs++;
    for (const d of catalog.inputs(node.class_type) ?? []) {
      const value = node.inputs[d.name];
      if (value === undefined) {
        if (d.section === 'required') warnings.push(warning('required_input_missing', `Node ${id} (${node.class_type}): required input "${d.name}" is not connected`, id, d.name));
        continue;
      }
      // Model and upload combos list the server's files: availability is reported with the models instead.
      if (d.type !== 'COMBO' || !d.choices || d.choices.length === 0 || d.upload || loaderFolder(node.class_type, d.name) !== undefined || typeof value !== 'string') continue;
      if (!d.choices.includes(value)) {
        warnings.push(warning('value_not_in_list', `Node ${id} (${node.class_type}): "${value}" is not one of the values of "${d.name}"`, id, d.name));
      }
    }
  }
  if (outputs === 0) warnings.push(warning('no_output_node', 'The workflow has no output node (SaveImage, PreviewImage, …): the server would run nothing'));
  return warnings;
}

function mutedOutputs(graph: FlatGraph | undefined, catalog: NodeCatalog): WorkflowWarning[] {
  const warnings: WorkflowWarning[] = [];
  for (const n of graph?.nodes ?? []) {
    if (n.kind === 'node' && !n.active && catalog.get(n.node.type)?.output_node) {
      warnings.push(warning('muted_output', `Output node ${n.id} (${n.node.type}) is muted or bypassed and will not run`, n.id));
    }
  }
  return warnings;
}

/** One entry per model file, with every node that needs it; warns of Windows path separators. */
function requiredModels(references: readonly ModelReference[], serverModels: AnalyzeOptions['serverModels'], warnings: WorkflowWarning[]): RequiredModel[] {
  // A set of node ids per model: a checkpoint shared by thousands of nodes must not make its list quadratic.
  const required = new Map<string, { model: RequiredModel; nodeIds: Set<string> }>();
  for (const ref of references) {
    const key = `${ref.folder ?? ''}/${slash(ref.name)}`;
    const existing = required.get(key);
    if (existing) {
      if (!existing.nodeIds.has(ref.nodeId)) {
        existing.nodeIds.add(ref.nodeId);
        existing.model.nodeIds.push(ref.nodeId);
      }
      continue;
    }
    const found = serverModels ? lookUp(ref, serverModels) : { found: false, folder: ref.folder };
    const entry = findCatalogueEntry(ref.name, found.folder);
    const folder = found.folder ?? entry?.folder ?? null;
    const model = { name: ref.name, type: modelType(folder), folder, size: entry?.size ?? null, available: found.found, nodeIds: [ref.nodeId] };
    required.set(key, { model, nodeIds: new Set([ref.nodeId]) });
    if (ref.name.includes('\\')) {
      warnings.push(warning('path_separator', `Node ${ref.nodeId}: "${ref.name}" uses Windows path separators; Linux servers list it with "/"`, ref.nodeId, ref.input));
    }
  }
  return [...required.values()].map((r) => r.model);
}

/** Node types the definitions lack, with the pack the workflow names for them. */
function findMissingNodes(prompt: ApiPrompt, graph: FlatGraph | undefined, catalog: NodeCatalog): MissingNode[] {
  const missing = new Map<string, MissingNode>();
  const add = (id: string, type: string, properties: UiNode['properties']): void => {
    if (catalog.has(type)) return;
    let entry = missing.get(type);
    if (!entry) {
      entry = { type, nodeIds: [], ...(properties?.cnr_id ? { cnr_id: properties.cnr_id } : {}), ...(properties?.aux_id ? { aux_id: properties.aux_id } : {}) };
      missing.set(type, entry);
    }
    entry.nodeIds.push(id);
  };
  if (graph) {
    for (const n of graph.nodes) if (n.kind === 'node') add(n.id, n.node.type, n.node.properties);
  } else {
    for (const id in prompt) add(id, prompt[id]!.class_type, undefined);
  }
  return [...missing.values()];
}

/**
 * Analyses a workflow in either format: the models it needs and which are missing (with download URLs), node
 * types the server lacks, complexity, an estimated generation time, and warnings. See docs/workflows.md.
 * @throws ComfyVastError WORKFLOW_INVALID when the JSON is not a valid workflow.
 */
export function analyzeWorkflow(workflow: unknown, options: AnalyzeOptions = {}): WorkflowAnalysis {
  const parsed = ensureParsed(workflow);
  const catalog = new NodeCatalog(options.objectInfo);
  const conversion =
    parsed.format === 'ui' ? (conversionOf(options.conversion, parsed.workflow, options.objectInfo) ?? convertUiWorkflow(parsed.workflow, catalog)) : undefined;
  const prompt = conversion?.prompt ?? (parsed.format === 'api' ? parsed.prompt : {});
  const graph = conversion?.graph;
  const warnings: WorkflowWarning[] = [...(conversion?.warnings.filter((w) => w.code !== 'unknown_node_type') ?? [])];

  const serverModels = options.serverModels;
  const references = [...findModelReferences(prompt, catalog), ...(graph ? findUnmappedModelReferences(graph, catalog) : [])];
  const required = requiredModels(references, serverModels, warnings);

  const declared = declaredModels(parsed.format === 'ui' ? parsed.workflow : undefined, graph);
  const missingModels = required
    .filter((m) => !m.available)
    .map((m): MissingModel => {
      const base = slash(m.name).split('/').pop();
      const own = declared.find((d) => d.name === m.name || d.name === base);
      const entry = findCatalogueEntry(m.name, m.folder);
      const downloadUrl = own?.url ?? entry?.url ?? null;
      const sha256 = own?.hash && (own.hash_type ?? 'sha256').toLowerCase() === 'sha256' ? own.hash : (entry?.sha256 ?? null);
      return { name: m.name, type: m.type, folder: m.folder ?? own?.directory ?? null, size: m.size, downloadUrl, sha256, source: own ? 'workflow' : entry ? 'catalogue' : null };
    });

  warnings.push(...nodeWarnings(prompt, catalog), ...mutedOutputs(graph, catalog));
  const figures = complexityFigures(prompt);
  const estimate = estimateGenerationTime(figures, options.gpu, options.pastTimings);
  return {
    format: parsed.format,
    requiredModels: required,
    missingModels,
    missingNodes: findMissingNodes(prompt, graph, catalog),
    complexity: classifyComplexity(figures),
    figures,
    estimatedGenerationTime: estimate.text,
    estimatedSeconds: { min: estimate.minSeconds, max: estimate.maxSeconds },
    checkedAgainstServer: serverModels !== undefined,
    warnings,
    notes: [...(conversion?.notes ?? [])],
  };
}
