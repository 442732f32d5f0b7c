export { startFakeComfy, type FakeComfy, type FakeComfyOptions } from './fake-comfy.js';
export { DEFAULT_MODELS, MODEL_FOLDERS, type ModelFiles, type NodeInfo, type ObjectInfo } from './catalog.js';
export type { FakeComfyFault, Timing as FakeComfyTiming } from './types.js';
export { sdxlApiPrompt } from './prompts.js';
export { readPngText } from './png.js';
