import { isApiLink, type ApiNode, type ApiPrompt } from './api-schema.js';
import { LatentSources, isLatentSource } from './latents.js';
import type { NodeCatalog } from './object-info.js';
import type { ParameterName, ParameterTarget } from './parameters.js';
import { SAMPLER_TYPES } from './samplers.js';
import { warning, type WorkflowWarning } from './warnings.js';

/** Text inputs of the text-encode nodes; other `*TextEncode*` classes fall back to `text` / `prompt`. */
const TEXT_FIELDS: Record<string, readonly string[]> = {
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: ['text_g', 'text_l'],
  CLIPTextEncodeSDXLRefiner: ['text'],
  CLIPTextEncodeSD3: ['clip_l', 'clip_g', 't5xxl'],
  CLIPTextEncodeFlux: ['clip_l', 't5xxl'],
  CLIPTextEncodeHiDream: ['clip_l', 'clip_g', 't5xxl', 'llama'],
  CLIPTextEncodeHunyuanDiT: ['bert', 'mt5xl'],
  CLIPTextEncodeLumina2: ['user_prompt'],
  CLIPTextEncodePixArtAlpha: ['text'],
  CLIPTextEncodeControlnet: ['text'],
  TextEncodeQwenImageEdit: ['prompt'],
  TextEncodeQwenImageEditPlus: ['prompt'],
  TextEncodeHunyuanVideo_ImageToVideo: ['prompt'],
};

/** Sampler settings: the input on the sampler, else on the node behind one of its hops (SamplerCustom family). */
const SAMPLER_FIELDS: Record<'seed' | 'steps' | 'cfg' | 'sampler' | 'scheduler' | 'denoise', { fields: readonly string[]; hops: readonly string[] }> = {
  seed: { fields: ['seed', 'noise_seed'], hops: ['noise'] },
  steps: { fields: ['steps'], hops: ['sigmas'] },
  cfg: { fields: ['cfg'], hops: ['guider'] },
  sampler: { fields: ['sampler_name'], hops: ['sampler'] },
  scheduler: { fields: ['scheduler'], hops: ['sigmas'] },
  denoise: { fields: ['denoise'], hops: ['sigmas'] },
};

const LATENT_FIELDS: Record<'width' | 'height' | 'batchSize', string> = { width: 'width', height: 'height', batchSize: 'batch_size' };

/** The samplers upstream of a sampler (a refiner's base pass, a hires-fix's first pass), not looking past them. */
export function upstreamSamplers(prompt: ApiPrompt, start: string): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const node = prompt[queue.pop()!]!;
    for (const value of Object.values(node.inputs)) {
      if (!isApiLink(value) || seen.has(value[0]) || !prompt[value[0]]) continue;
      seen.add(value[0]);
      if (SAMPLER_TYPES.has(prompt[value[0]]!.class_type)) found.add(value[0]);
      else queue.push(value[0]);
    }
  }
  return found;
}

export interface TargetSearch {
  targets: ParameterTarget[];
  warnings: WorkflowWarning[];
}

/**
 * Finds where each generation parameter goes (docs/workflows.md, "Parameter injection"): text from the
 * encoders reached from the samplers' positive / negative inputs; sampler settings on every sampler (denoise
 * only on the first pass); sizes on the empty-latent nodes that feed the first pass.
 */
export function findTargetsInPrompt(prompt: ApiPrompt, catalog: NodeCatalog): TargetSearch {
  const search = new Search(prompt, catalog);
  return search.run();
}

class Search {
  private readonly targets: ParameterTarget[] = [];
  private readonly warnings: WorkflowWarning[] = [];
  private readonly added = new Set<string>();

  constructor(
    private readonly prompt: ApiPrompt,
    private readonly catalog: NodeCatalog,
  ) {}

  run(): TargetSearch {
    const samplers = Object.keys(this.prompt).filter((id) => SAMPLER_TYPES.has(this.prompt[id]!.class_type));
    const upstream = new Map(samplers.map((id) => [id, upstreamSamplers(this.prompt, id)]));
    const firstPass = new Set(samplers.filter((id) => upstream.get(id)!.size === 0));
    const feeding = new Set(samplers.flatMap((id) => [...upstream.get(id)!]));
    const last = samplers.filter((id) => !feeding.has(id));
    if (last.length > 1) {
      this.warnings.push(warning('parameter_ambiguous', `The workflow has ${last.length} independent sampler chains (${last.join(', ')}); sampler settings go to all of them`));
    }
    for (const id of samplers) this.samplerTargets(id, firstPass.has(id));
    this.textTargets(samplers);
    this.latentTargets(firstPass);
    return { targets: this.targets, warnings: this.warnings };
  }

  private add(parameter: ParameterName, nodeId: string, input: string): void {
    const key = `${parameter}/${nodeId}/${input}`;
    if (this.added.has(key)) return;
    this.added.add(key);
    const node = this.prompt[nodeId]!;
    this.targets.push({ parameter, nodeId, input, value: node.inputs[input], classType: node.class_type, title: node._meta?.title });
  }

  /** The literal that holds `field` on a node: the input itself, or the `value` of a primitive node linked to it. */
  private literal(nodeId: string, field: string): { nodeId: string; input: string } | undefined {
    const node = this.prompt[nodeId];
    if (!node || !(field in node.inputs)) return undefined;
    const value = node.inputs[field];
    if (!isApiLink(value)) return { nodeId, input: field };
    const source = this.prompt[value[0]];
    const names = source ? Object.keys(source.inputs).filter((k) => !isApiLink(source.inputs[k])) : [];
    return source && names.length === 1 ? { nodeId: value[0], input: names[0]! } : undefined;
  }

  private linkedNode(nodeId: string, input: string): string | undefined {
    const value = this.prompt[nodeId]?.inputs[input];
    return isApiLink(value) && this.prompt[value[0]] ? value[0] : undefined;
  }

  private samplerTargets(samplerId: string, firstPass: boolean): void {
    for (const [parameter, { fields, hops }] of Object.entries(SAMPLER_FIELDS) as [keyof typeof SAMPLER_FIELDS, (typeof SAMPLER_FIELDS)[keyof typeof SAMPLER_FIELDS]][]) {
      if (parameter === 'denoise' && !firstPass) continue;
      const holders = [samplerId, ...hops.flatMap((hop) => this.linkedNode(samplerId, hop) ?? [])];
      const found = holders.flatMap((holder) => fields.flatMap((field) => this.literal(holder, field) ?? []))[0];
      if (found) this.add(parameter, found.nodeId, found.input);
    }
  }

  private textTargets(samplers: readonly string[]): void {
    const positive = new Set<string>();
    const negative = new Set<string>();
    for (const id of samplers) {
      const guider = this.linkedNode(id, 'guider');
      const holder = guider ?? id;
      for (const input of ['positive', 'conditioning', 'cond1', 'cond2']) this.walkConditioning(holder, input, positive);
      this.walkConditioning(holder, 'negative', negative);
    }
    for (const id of positive) {
      if (negative.has(id)) {
        this.warnings.push(warning('parameter_ambiguous', `Node ${id} feeds both the positive and the negative conditioning; it gets the prompt only`, id));
      }
    }
    for (const [parameter, encoders] of [['prompt', positive], ['negativePrompt', negative]] as const) {
      for (const id of encoders) {
        if (parameter === 'negativePrompt' && positive.has(id)) continue;
        for (const field of this.textFields(this.prompt[id]!)) {
          const found = this.literal(id, field);
          if (found) this.add(parameter, found.nodeId, found.input);
        }
      }
    }
  }

  private textFields(node: ApiNode): readonly string[] {
    return TEXT_FIELDS[node.class_type] ?? ['text', 'prompt'].filter((f) => f in node.inputs);
  }

  private isEncoder(node: ApiNode): boolean {
    return node.class_type in TEXT_FIELDS || (/TextEncode/.test(node.class_type) && this.textFields(node).length > 0);
  }

  /** Walks up a conditioning input through combiners, ControlNet apply nodes and the like to the text encoders. */
  private walkConditioning(nodeId: string, input: string, into: Set<string>, seen = new Set<string>()): void {
    const value = this.prompt[nodeId]?.inputs[input];
    if (!isApiLink(value)) return;
    const [sourceId, slot] = value;
    const source = this.prompt[sourceId];
    const key = `${sourceId}/${slot}`;
    if (!source || seen.has(key)) return;
    seen.add(key);
    if (this.isEncoder(source)) {
      into.add(sourceId);
      return;
    }
    if ('positive' in source.inputs && 'negative' in source.inputs) {
      const name = String(this.catalog.get(source.class_type)?.output_name?.[slot] ?? (slot === 0 ? 'positive' : 'negative')).toLowerCase();
      if (name in source.inputs) this.walkConditioning(sourceId, name, into, seen);
      return;
    }
    const definitions = this.catalog.inputs(source.class_type);
    const names = definitions
      ? definitions.filter((d) => d.type === 'CONDITIONING').map((d) => d.name)
      : Object.keys(source.inputs).filter((n) => n.startsWith('conditioning'));
    for (const name of names) this.walkConditioning(sourceId, name, into, seen);
  }

  private latentTargets(firstPass: ReadonlySet<string>): void {
    const sources = new Set<string>();
    const latents = new LatentSources(this.prompt, { throughSamplers: false });
    for (const id of firstPass) for (const source of latents.of(id)) sources.add(source);
    if (firstPass.size === 0) {
      for (const [id, node] of Object.entries(this.prompt)) if (isLatentSource(node)) sources.add(id);
    }
    if (sources.size > 1) {
      this.warnings.push(warning('parameter_ambiguous', `Several latent-image nodes (${[...sources].join(', ')}) set the size; width, height and batch size go to all of them`));
    }
    for (const id of sources) {
      for (const [parameter, field] of Object.entries(LATENT_FIELDS) as [keyof typeof LATENT_FIELDS, string][]) {
        const found = this.literal(id, field);
        if (found) this.add(parameter, found.nodeId, found.input);
      }
    }
  }
}
