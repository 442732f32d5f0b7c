import { isApiLink, type ApiPrompt } from './api-schema.js';
import { LatentSources } from './latents.js';
import { SAMPLER_TYPES } from './samplers.js';

export type Complexity = 'low' | 'medium' | 'high';

export interface ComplexityFigures {
  /** Σ over samplers of effective steps × megapixels × batch size ("step-megapixels"). */
  samplerWork: number;
  samplers: number;
  upscalers: number;
  nodeCount: number;
}

/** Megapixels of a pass whose size is not in the workflow (image-to-image from a loaded image). */
const UNKNOWN_MEGAPIXELS = 0.5;
const DEFAULT_STEPS = 20;

const numberInput = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function linked(prompt: ApiPrompt, nodeId: string, input: string) {
  const value = prompt[nodeId]?.inputs[input];
  return isApiLink(value) ? prompt[value[0]] : undefined;
}

/** Steps a sampler really runs: KSamplerAdvanced runs its start..end window; a partial denoise runs that share. */
function effectiveSteps(prompt: ApiPrompt, id: string): number {
  const inputs = prompt[id]!.inputs;
  const sigmas = linked(prompt, id, 'sigmas')?.inputs;
  const steps = numberInput(inputs['steps']) ?? numberInput(sigmas?.['steps']) ?? DEFAULT_STEPS;
  const start = numberInput(inputs['start_at_step']) ?? 0;
  const end = Math.min(numberInput(inputs['end_at_step']) ?? steps, steps);
  const denoise = numberInput(inputs['denoise']) ?? numberInput(sigmas?.['denoise']) ?? 1;
  return Math.max(0, end - start) * Math.min(1, Math.max(0, denoise));
}

function megapixels(prompt: ApiPrompt, latents: LatentSources, samplerId: string): number {
  let total = 0;
  for (const id of latents.of(samplerId)) {
    const { width, height, batch_size } = prompt[id]!.inputs;
    total += ((numberInput(width) ?? 512) * (numberInput(height) ?? 512) * (numberInput(batch_size) ?? 1)) / 1e6;
  }
  return total > 0 ? total : UNKNOWN_MEGAPIXELS;
}

export const isUpscaler = (classType: string): boolean => /Upscale/.test(classType) && !/Loader/.test(classType);

export function complexityFigures(prompt: ApiPrompt): ComplexityFigures {
  let samplerWork = 0;
  let samplers = 0;
  let upscalers = 0;
  let nodeCount = 0;
  const latents = new LatentSources(prompt, { throughSamplers: true });
  for (const id in prompt) {
    const classType = prompt[id]!.class_type;
    nodeCount++;
    if (isUpscaler(classType)) upscalers++;
    if (!SAMPLER_TYPES.has(classType)) continue;
    samplers++;
    samplerWork += effectiveSteps(prompt, id) * megapixels(prompt, latents, id);
  }
  return { samplerWork: Math.round(samplerWork * 100) / 100, samplers, upscalers, nodeCount };
}

/**
 * The documented complexity rule (docs/workflows.md): high from 60 step-megapixels, two upscalers or 150 nodes;
 * medium from 15 step-megapixels, one upscaler or 50 nodes; low below.
 */
export function classifyComplexity(figures: ComplexityFigures): Complexity {
  if (figures.samplerWork >= 60 || figures.upscalers >= 2 || figures.nodeCount > 150) return 'high';
  if (figures.samplerWork >= 15 || figures.upscalers >= 1 || figures.nodeCount > 50) return 'medium';
  return 'low';
}
