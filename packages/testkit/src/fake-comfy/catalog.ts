import objectInfoData from '../../data/object_info.json' with { type: 'json' };

/** One entry of `GET /object_info`, as ComfyUI serves it. Only the fields the fake reads are typed. */
export interface NodeInfo {
  input: { required?: Record<string, InputSpec>; optional?: Record<string, InputSpec>; hidden?: Record<string, unknown> };
  input_order: { required?: string[]; optional?: string[]; hidden?: string[] };
  output: string[];
  output_node: boolean;
  [key: string]: unknown;
}

/** `[type]`, `[type, options]` or a legacy combo `[[values], options]`. */
export type InputSpec = [string | unknown[], Record<string, unknown>?];

export type ObjectInfo = Record<string, NodeInfo>;

/** Model files per folder key (`checkpoints`, `loras`, ...), as `/models/{folder}` lists them. */
export type ModelFiles = Record<string, string[]>;

/** Folder keys of ComfyUI's models directory, in the order `/models` answers them. */
export const MODEL_FOLDERS = [
  'checkpoints', 'configs', 'loras', 'vae', 'text_encoders', 'diffusion_models', 'clip_vision', 'style_models',
  'embeddings', 'diffusers', 'vae_approx', 'controlnet', 'gligen', 'upscale_models', 'custom_nodes',
  'hypernetworks', 'photomaker', 'classifiers', 'model_patches', 'audio_encoders',
] as const;

/** The standard files of an SD 1.5 / SDXL / Flux box, so the usual workflows validate out of the box. */
export const DEFAULT_MODELS: ModelFiles = {
  checkpoints: ['sd_xl_base_1.0.safetensors', 'sd_xl_refiner_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors'],
  loras: ['add_detail.safetensors'],
  vae: ['sdxl_vae.safetensors', 'ae.safetensors'],
  text_encoders: ['clip_l.safetensors', 't5xxl_fp8_e4m3fn.safetensors'],
  diffusion_models: ['flux1-dev.safetensors', 'flux1-schnell.safetensors'],
  controlnet: ['control_v11p_sd15_canny.pth'],
  upscale_models: ['RealESRGAN_x4plus.pth'],
  clip_vision: [],
  embeddings: [],
};

/** Which loader input lists which model folder (reference §4.1). */
const MODEL_INPUTS: Record<string, Record<string, string>> = {
  CheckpointLoaderSimple: { ckpt_name: 'checkpoints' },
  VAELoader: { vae_name: 'vae' },
  LoraLoader: { lora_name: 'loras' },
  LoraLoaderModelOnly: { lora_name: 'loras' },
  ControlNetLoader: { control_net_name: 'controlnet' },
  DiffControlNetLoader: { control_net_name: 'controlnet' },
  UNETLoader: { unet_name: 'diffusion_models' },
  CLIPLoader: { clip_name: 'text_encoders' },
  DualCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders' },
  UpscaleModelLoader: { model_name: 'upscale_models' },
  CLIPVisionLoader: { clip_name: 'clip_vision' },
};

/** Classes whose `image` combo lists the input directory. */
const INPUT_FILE_NODES = new Set(['LoadImage', 'LoadImageMask']);

/**
 * The node classes the fake knows: a subset of a real server's `/object_info` (data/object_info.json, recorded
 * from ComfyUI 0.3.64), with the model and input-file combos filled from what this fake "has on disk".
 */
export function buildObjectInfo(models: ModelFiles, inputFiles: string[], base: ObjectInfo = objectInfoData as unknown as ObjectInfo): ObjectInfo {
  const out: ObjectInfo = structuredClone(base);
  for (const [cls, info] of Object.entries(out)) {
    const required = info.input.required ?? {};
    for (const [name, folder] of Object.entries(MODEL_INPUTS[cls] ?? {})) {
      const spec = required[name];
      if (spec) required[name] = withValues(spec, models[folder] ?? []);
    }
    if (INPUT_FILE_NODES.has(cls) && required.image) required.image = withValues(required.image, inputFiles);
  }
  return out;
}

function withValues(spec: InputSpec, values: string[]): InputSpec {
  const list = [...values].sort();
  return spec[1] ? [list, spec[1]] : [list];
}
