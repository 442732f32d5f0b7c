import { injectParameters, type ApiPrompt, type GenerationParameters } from '../workflow/index.js';
import type { GenerateRequest } from './api-schemas.js';

/**
 * The built-in text-to-image workflow (ComfyUI's standard SDXL template, API format), used when a request names
 * no workflow. It lives here until the workflow domain ships built-in workflows; swap this constant for theirs.
 */
export const BUILTIN_TEXT_TO_IMAGE: ApiPrompt = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' }, _meta: { title: 'Load Checkpoint' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 }, _meta: { title: 'Empty Latent Image' } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] }, _meta: { title: 'Positive Prompt' } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] }, _meta: { title: 'Negative Prompt' } },
  '3': {
    class_type: 'KSampler',
    inputs: { seed: 0, steps: 25, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
    _meta: { title: 'KSampler' },
  },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] }, _meta: { title: 'VAE Decode' } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'comfy-vast' }, _meta: { title: 'Save Image' } },
};

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
export function preparePrompt(workflow: ApiPrompt, request: GenerateRequest, random: () => number): PreparedPrompt {
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
