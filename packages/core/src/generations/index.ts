export { GenerationService, type GenerationServiceOptions, type GenerationServiceEvents, type ComfyTargets } from './generation-service.js';
export * from './api-schemas.js';
export { generationsCollection, generationRecordSchema, generationStatusSchema, generationErrorSchema, GENERATION_STATUSES, type GenerationRecord, type GenerationStatus, type GenerationError } from './records.js';
export { builtinPrompt, DEFAULT_WORKFLOW_ID, preparePrompt, type PreparedPrompt } from './builtin-prompt.js';
export { ProgressModel } from './progress-model.js';
export { ImageStore, type StoredImage } from './image-store.js';
