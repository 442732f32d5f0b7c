/** Model file extensions ComfyUI lists (folder_paths.py). */
export const MODEL_EXTENSIONS: readonly string[] = ['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft'];

const EXTENSION_SET: ReadonlySet<string> = new Set(MODEL_EXTENSIONS);
const LONGEST_EXTENSION = Math.max(...MODEL_EXTENSIONS.map((ext) => ext.length));

/** Whether a file name ends in a model extension, in any case. Checked on every string input of a prompt. */
export const hasModelExtension = (value: string): boolean => {
  const dot = value.lastIndexOf('.');
  return dot >= 0 && value.length - dot <= LONGEST_EXTENSION && EXTENSION_SET.has(value.slice(dot).toLowerCase());
};

/** Core loader inputs and the model folder each reads (protocol reference 4.1). */
export const LOADER_INPUTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  CheckpointLoaderSimple: { ckpt_name: 'checkpoints' },
  unCLIPCheckpointLoader: { ckpt_name: 'checkpoints' },
  ImageOnlyCheckpointLoader: { ckpt_name: 'checkpoints' },
  CheckpointLoader: { config_name: 'configs', ckpt_name: 'checkpoints' },
  VAELoader: { vae_name: 'vae' },
  LoraLoader: { lora_name: 'loras' },
  LoraLoaderModelOnly: { lora_name: 'loras' },
  CreateHookLora: { lora_name: 'loras' },
  CreateHookLoraModelOnly: { lora_name: 'loras' },
  ControlNetLoader: { control_net_name: 'controlnet' },
  DiffControlNetLoader: { control_net_name: 'controlnet' },
  UNETLoader: { unet_name: 'diffusion_models' },
  CLIPLoader: { clip_name: 'text_encoders' },
  DualCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders' },
  TripleCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders', clip_name3: 'text_encoders' },
  QuadrupleCLIPLoader: { clip_name1: 'text_encoders', clip_name2: 'text_encoders', clip_name3: 'text_encoders', clip_name4: 'text_encoders' },
  CLIPVisionLoader: { clip_name: 'clip_vision' },
  StyleModelLoader: { style_model_name: 'style_models' },
  GLIGENLoader: { gligen_name: 'gligen' },
  UpscaleModelLoader: { model_name: 'upscale_models' },
  LatentUpscaleModelLoader: { model_name: 'latent_upscale_models' },
  HypernetworkLoader: { hypernetwork_name: 'hypernetworks' },
  PhotoMakerLoader: { photomaker_model_name: 'photomaker' },
  ModelPatchLoader: { name: 'model_patches' },
  AudioEncoderLoader: { audio_encoder_name: 'audio_encoders' },
  LoadBackgroundRemovalModel: { bg_removal_name: 'background_removal' },
  FrameInterpolationModelLoader: { model_name: 'frame_interpolation' },
  LTXVAudioVAELoader: { ckpt_name: 'checkpoints' },
  LTXAVTextEncoderLoader: { text_encoder: 'text_encoders' },
  DiffusersLoader: { model_path: 'diffusers' },
};

/** The model type word of each folder, as the API reports it (`checkpoint`, `vae`, `lora`, …). */
export const FOLDER_TYPES: Readonly<Record<string, string>> = {
  checkpoints: 'checkpoint',
  configs: 'config',
  vae: 'vae',
  vae_approx: 'vae_approx',
  loras: 'lora',
  controlnet: 'controlnet',
  diffusion_models: 'diffusion_model',
  text_encoders: 'text_encoder',
  clip_vision: 'clip_vision',
  style_models: 'style_model',
  gligen: 'gligen',
  upscale_models: 'upscale_model',
  latent_upscale_models: 'latent_upscale_model',
  hypernetworks: 'hypernetwork',
  photomaker: 'photomaker',
  model_patches: 'model_patch',
  audio_encoders: 'audio_encoder',
  background_removal: 'background_removal',
  frame_interpolation: 'frame_interpolation',
  diffusers: 'diffusers',
  embeddings: 'embedding',
};

export const modelType = (folder: string | null): string => (folder && Object.hasOwn(FOLDER_TYPES, folder) ? FOLDER_TYPES[folder]! : folder || 'unknown');

/** The folder a core loader input reads, or undefined; own keys only, so a node named `constructor` is no loader. */
export function loaderFolder(classType: string, input: string): string | undefined {
  const inputs = Object.hasOwn(LOADER_INPUTS, classType) ? LOADER_INPUTS[classType]! : undefined;
  return inputs && Object.hasOwn(inputs, input) ? inputs[input] : undefined;
}
