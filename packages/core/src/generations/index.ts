export { GenerationService, type GenerationServiceOptions, type GenerationServiceEvents, type ComfyTargets } from './generation-service.js';
export { generateInputSchema, type GenerateInput, type GenerateResult, type GenerationProgress, type ActiveGeneration, type GenerationHistoryItem, type GenerationEvent, type GenerationProgressEvent, type GenerationCompleteEvent, type GenerationErrorEvent } from './results.js';
export { generationsCollection, generationRecordSchema, generationStatusSchema, generationErrorSchema, GENERATION_STATUSES, type GenerationRecord, type GenerationStatus, type GenerationError } from './records.js';
export { builtinPrompt, DEFAULT_WORKFLOW_ID, preparePrompt, type PreparedPrompt } from './builtin-prompt.js';
export { ProgressModel } from './progress-model.js';
export { parseImageName, type ImageStore, type StoredImage } from './image-store.js';
export { DirectoryImageStore } from './directory-image-store.js';
export { DatabaseImageStore, MAX_DATABASE_IMAGE_BYTES, type DatabaseImageStoreOptions } from './database-image-store.js';
export { GenerationFollowers } from './followers.js';
