import type { EventEmitter } from 'eventemitter3';

/** An SDXL text-to-image prompt in API format, with the fake ComfyUI's default model files. */
export function sdxlPrompt(seed: number, steps = 3, size = 32): Record<string, unknown> {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse at dusk', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '3': {
      class_type: 'KSampler',
      inputs: { seed, steps, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'ComfyUI' } },
  };
}

/** Resolves with the arguments of the first `event` whose arguments satisfy `pred`. */
export function nextEvent<A extends unknown[]>(emitter: EventEmitter, event: string, pred: (...args: A) => boolean = () => true): Promise<A> {
  return new Promise((resolve) => {
    const listener = (...args: unknown[]) => {
      if (!pred(...(args as A))) return;
      emitter.off(event, listener);
      resolve(args as A);
    };
    emitter.on(event, listener);
  });
}
