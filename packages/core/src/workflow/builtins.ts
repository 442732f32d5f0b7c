import { UiWorkflowBuilder } from './builder.js';
import type { UiWorkflow } from './ui-schema.js';

export interface BuiltinWorkflow {
  id: number;
  name: string;
  description: string;
  tags: readonly string[];
  workflow: UiWorkflow;
  /** Model file names, as the setup downloads them. */
  requiredModels: readonly string[];
}

const NEGATIVE = 'blurry, low quality, watermark, text';
const OUTPUT_PREFIX = 'comfy-vast';

/** Checkpoint → prompts → sampler → decode → save; `latent` builds the sampler's latent input. */
function textToImage(options: {
  checkpoint: string;
  vae?: string;
  sampler: unknown[];
  latent: (b: UiWorkflowBuilder, vae: [number, number]) => number;
}): UiWorkflow {
  const b = new UiWorkflowBuilder();
  const checkpoint = b.add('CheckpointLoaderSimple', [options.checkpoint]);
  const vae: [number, number] = options.vae ? [b.add('VAELoader', [options.vae]), 0] : [checkpoint, 2];
  const positive = b.add('CLIPTextEncode', ['a beautiful landscape with mountains, golden hour, highly detailed'], { title: 'Positive Prompt' });
  const negative = b.add('CLIPTextEncode', [NEGATIVE], { title: 'Negative Prompt' });
  const latent = options.latent(b, vae);
  const sampler = b.add('KSampler', options.sampler);
  const decode = b.add('VAEDecode');
  const save = b.add('SaveImage', [OUTPUT_PREFIX]);
  b.connect(checkpoint, 0, sampler, 'model')
    .connect(checkpoint, 1, positive, 'clip')
    .connect(checkpoint, 1, negative, 'clip')
    .connect(positive, 0, sampler, 'positive')
    .connect(negative, 0, sampler, 'negative')
    .connect(latent, 0, sampler, 'latent_image')
    .connect(sampler, 0, decode, 'samples')
    .connect(vae[0], vae[1], decode, 'vae')
    .connect(decode, 0, save, 'images');
  return b.build();
}

const emptyLatent = (size: number) => (b: UiWorkflowBuilder) => b.add('EmptyLatentImage', [size, size, 1]);

function imageToImage(): UiWorkflow {
  return textToImage({
    checkpoint: 'v1-5-pruned-emaonly.safetensors',
    sampler: [0, 'fixed', 20, 7, 'euler', 'normal', 0.6],
    latent: (b, vae) => {
      const image = b.add('LoadImage', ['example.png', 'image']);
      const encode = b.add('VAEEncode');
      b.connect(image, 0, encode, 'pixels').connect(vae[0], vae[1], encode, 'vae');
      return encode;
    },
  });
}

function upscale2x(): UiWorkflow {
  const b = new UiWorkflowBuilder();
  const image = b.add('LoadImage', ['example.png', 'image']);
  const model = b.add('UpscaleModelLoader', ['RealESRGAN_x2.pth']);
  const upscale = b.add('ImageUpscaleWithModel');
  const save = b.add('SaveImage', [`${OUTPUT_PREFIX}-upscaled`]);
  b.connect(model, 0, upscale, 'upscale_model').connect(image, 0, upscale, 'image').connect(upscale, 0, save, 'images');
  return b.build();
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The workflows every user sees (ids 1–4; user workflows are numbered after them). Frozen: clone to edit. */
export const BUILTIN_WORKFLOWS: readonly BuiltinWorkflow[] = deepFreeze([
  {
    id: 1,
    name: 'Text to Image - SDXL',
    description: 'Basic text-to-image generation using SDXL',
    tags: ['builtin', 'sdxl', 'text-to-image'],
    workflow: textToImage({
      checkpoint: 'sd_xl_base_1.0.safetensors',
      vae: 'sdxl_vae.safetensors',
      sampler: [0, 'fixed', 30, 7.5, 'dpmpp_2m', 'karras', 1],
      latent: emptyLatent(1024),
    }),
    requiredModels: ['sd_xl_base_1.0.safetensors', 'sdxl_vae.safetensors'],
  },
  {
    id: 2,
    name: 'Text to Image - SD 1.5',
    description: 'Text-to-image generation at 512×512 using Stable Diffusion 1.5',
    tags: ['builtin', 'sd15', 'text-to-image'],
    workflow: textToImage({
      checkpoint: 'v1-5-pruned-emaonly.safetensors',
      sampler: [0, 'fixed', 20, 7, 'euler', 'normal', 1],
      latent: emptyLatent(512),
    }),
    requiredModels: ['v1-5-pruned-emaonly.safetensors'],
  },
  {
    id: 3,
    name: 'Image to Image - SD 1.5',
    description: 'Redraws an uploaded image guided by the prompt (denoise 0.6) using Stable Diffusion 1.5',
    tags: ['builtin', 'sd15', 'image-to-image'],
    workflow: imageToImage(),
    requiredModels: ['v1-5-pruned-emaonly.safetensors'],
  },
  {
    id: 4,
    name: 'Upscale 2x',
    description: 'Doubles the resolution of an uploaded image with Real-ESRGAN',
    tags: ['builtin', 'upscale'],
    workflow: upscale2x(),
    requiredModels: ['RealESRGAN_x2.pth'],
  },
]);

/** A built-in workflow by id, as an editable copy. */
export function getBuiltinWorkflow(id: number): BuiltinWorkflow | undefined {
  const found = BUILTIN_WORKFLOWS.find((w) => w.id === id);
  return found ? structuredClone(found) : undefined;
}
