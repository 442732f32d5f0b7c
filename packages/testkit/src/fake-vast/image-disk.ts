import { DEFAULT_MODELS } from '../fake-comfy/catalog.js';
import type { VirtualHostState } from '../fake-ssh/virtual-host-state.js';

/** Typical sizes per folder, so listings and free space look like a real box's. */
const BYTES: Record<string, number> = {
  checkpoints: 6_938_078_334,
  diffusion_models: 23_802_932_552,
  vae: 334_641_164,
  loras: 151_108_832,
  text_encoders: 246_144_152,
  controlnet: 1_445_157_124,
  upscale_models: 67_040_989,
};

/**
 * The disk of a new instance as the `vastai/comfy` image leaves it: ComfyUI installed and running, the fake
 * ComfyUI's default models in place (so the usual workflows validate), no remote.sh uploaded yet, no jobs.
 */
export function imageDisk(freeBytes = 500e9): VirtualHostState {
  const models = Object.entries(DEFAULT_MODELS).flatMap(([folder, names]) => names.map((name) => ({ folder, name, bytes: BYTES[folder] ?? 100_000_000, partial: false })));
  return { script: '', installed: true, comfyRunning: true, freeBytes, models, jobs: [] };
}
