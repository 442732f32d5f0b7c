export { ERROR_CODES, isErrorCode, type ErrorCode } from './codes.js';
export { ComfyVastError, isComfyVastError, type ErrorDetails, type ComfyVastErrorOptions } from './comfy-vast-error.js';
export { describeIssues, parseOrThrow } from './zod.js';
