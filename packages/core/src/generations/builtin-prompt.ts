import { getBuiltinWorkflow, injectParameters, toApiPrompt, type ApiPrompt, type GenerationParameters } from '../workflow/index.js';
import type { GenerateInput } from './results.js';

/** The workflow a request without `workflowId` runs: the built-in SDXL text-to-image (workflow 1). */
export const DEFAULT_WORKFLOW_ID = 1;

/** A built-in workflow (the workflow domain's, UI format) as the API prompt ComfyUI takes, or undefined. */
export function builtinPrompt(id: number): ApiPrompt | undefined {
  const builtin = getBuiltinWorkflow(id);
  return builtin ? toApiPrompt(builtin.workflow).prompt : undefined;
}

export interface PreparedPrompt {
  prompt: ApiPrompt;
  /** The seed written into the prompt (random when -1 or absent), or null when the workflow has none. */
  seed: number | null;
  warnings: string[];
}

/**
 * The one place where a generate request becomes the prompt sent to ComfyUI: the workflow's parameters are
 * injected by the workflow domain's injector, and a missing seed means a random one, as `seed: -1` does.
 */
export function preparePrompt(workflow: ApiPrompt, request: GenerateInput, random: () => number): PreparedPrompt {
  const p = request.parameters ?? {};
  const params: GenerationParameters = {
    prompt: request.prompt,
    negativePrompt: request.negativePrompt ?? '',
    steps: p.steps,
    cfg: p.cfg,
    seed: p.seed ?? -1,
    width: p.width,
    height: p.height,
    sampler: p.sampler,
    scheduler: p.scheduler,
    denoise: p.denoise,
    batchSize: p.batchSize,
  };
  const result = injectParameters(workflow, params, { random });
  const seed = result.applied.find((a) => a.parameter === 'seed')?.value;
  return { prompt: result.prompt, seed: typeof seed === 'number' ? seed : null, warnings: result.warnings.map((w) => w.message) };
}
