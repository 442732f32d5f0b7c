/** A well-known model: where to download it and what to expect. */
export interface CatalogueEntry {
  name: string;
  folder: string;
  url: string;
  /** Exact size in bytes when recorded from the publisher, else null (then only `size` is an approximation). */
  sizeBytes: number | null;
  /** Human-readable size. */
  size: string;
  /** Hex SHA-256 when recorded from the publisher, else null: a download must then skip the checksum check. */
  sha256: string | null;
  description: string;
}

/**
 * Models the built-in workflows and the setup use, and common companions. Sizes and hashes are filled in only
 * where they were recorded from the publisher's listing; docs/workflows.md lists them.
 */
export const MODEL_CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'sd_xl_base_1.0.safetensors',
    folder: 'checkpoints',
    url: 'https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/sd_xl_base_1.0.safetensors',
    sizeBytes: 6938078334,
    size: '6.94 GB',
    sha256: '31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b',
    description: 'Stable Diffusion XL 1.0 base',
  },
  {
    name: 'sd_xl_refiner_1.0.safetensors',
    folder: 'checkpoints',
    url: 'https://huggingface.co/stabilityai/stable-diffusion-xl-refiner-1.0/resolve/main/sd_xl_refiner_1.0.safetensors',
    sizeBytes: 6075981930,
    size: '6.08 GB',
    sha256: '7440042bbdc8a24813002c09b6b69b64dc90fded4472613437b7f55f9b7d9c5f',
    description: 'Stable Diffusion XL 1.0 refiner',
  },
  {
    name: 'sdxl_vae.safetensors',
    folder: 'vae',
    url: 'https://huggingface.co/stabilityai/sdxl-vae/resolve/main/sdxl_vae.safetensors',
    sizeBytes: 334641164,
    size: '335 MB',
    sha256: null,
    description: 'SDXL VAE',
  },
  {
    name: 'v1-5-pruned-emaonly.safetensors',
    folder: 'checkpoints',
    url: 'https://huggingface.co/Comfy-Org/stable-diffusion-v1-5-archive/resolve/main/v1-5-pruned-emaonly.safetensors',
    sizeBytes: 4265146304,
    size: '4.27 GB',
    sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
    description: 'Stable Diffusion 1.5 (EMA only, pruned)',
  },
  {
    name: 'vae-ft-mse-840000-ema-pruned.safetensors',
    folder: 'vae',
    url: 'https://huggingface.co/stabilityai/sd-vae-ft-mse-original/resolve/main/vae-ft-mse-840000-ema-pruned.safetensors',
    sizeBytes: null,
    size: '335 MB',
    sha256: null,
    description: 'SD 1.5 VAE fine-tuned with MSE',
  },
  {
    name: 'RealESRGAN_x2.pth',
    folder: 'upscale_models',
    url: 'https://huggingface.co/ai-forever/Real-ESRGAN/resolve/main/RealESRGAN_x2.pth',
    sizeBytes: null,
    size: '67 MB',
    sha256: null,
    description: 'Real-ESRGAN 2x upscaler',
  },
  {
    name: 'RealESRGAN_x4plus.pth',
    folder: 'upscale_models',
    url: 'https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth',
    sizeBytes: null,
    size: '67 MB',
    sha256: null,
    description: 'Real-ESRGAN 4x upscaler',
  },
  {
    name: 'control_v11p_sd15_canny.pth',
    folder: 'controlnet',
    url: 'https://huggingface.co/lllyasviel/ControlNet-v1-1/resolve/main/control_v11p_sd15_canny.pth',
    sizeBytes: null,
    size: '1.45 GB',
    sha256: null,
    description: 'ControlNet 1.1 canny for SD 1.5',
  },
  {
    name: 'flux1-schnell.safetensors',
    folder: 'diffusion_models',
    url: 'https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/flux1-schnell.safetensors',
    sizeBytes: null,
    size: '23.8 GB',
    sha256: null,
    description: 'FLUX.1 schnell diffusion model',
  },
  {
    name: 'flux1-dev.safetensors',
    folder: 'diffusion_models',
    url: 'https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors',
    sizeBytes: null,
    size: '23.8 GB',
    sha256: null,
    description: 'FLUX.1 dev diffusion model (gated: needs a Hugging Face token)',
  },
  {
    name: 'ae.safetensors',
    folder: 'vae',
    url: 'https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/ae.safetensors',
    sizeBytes: null,
    size: '335 MB',
    sha256: null,
    description: 'FLUX.1 autoencoder',
  },
  {
    name: 'clip_l.safetensors',
    folder: 'text_encoders',
    url: 'https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors',
    sizeBytes: null,
    size: '246 MB',
    sha256: null,
    description: 'CLIP-L text encoder (FLUX, SD3)',
  },
  {
    name: 't5xxl_fp16.safetensors',
    folder: 'text_encoders',
    url: 'https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/t5xxl_fp16.safetensors',
    sizeBytes: null,
    size: '9.79 GB',
    sha256: null,
    description: 'T5-XXL text encoder, fp16 (FLUX, SD3)',
  },
  {
    name: 't5xxl_fp8_e4m3fn.safetensors',
    folder: 'text_encoders',
    url: 'https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/t5xxl_fp8_e4m3fn.safetensors',
    sizeBytes: null,
    size: '4.89 GB',
    sha256: null,
    description: 'T5-XXL text encoder, fp8 (FLUX, SD3)',
  },
];

/** The catalogue entry for a model file name (the last path component is compared, either separator). */
export function findCatalogueEntry(name: string, folder?: string | null): CatalogueEntry | undefined {
  const base = name.split(/[\\/]/).pop()!;
  return MODEL_CATALOGUE.find((e) => e.name === base && (!folder || e.folder === folder)) ?? MODEL_CATALOGUE.find((e) => e.name === base);
}
