import type { ErrorCode } from './codes.js';

export type ErrorDetails = Record<string, unknown>;

export interface ComfyVastErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
}

/** The one error type of the library: a documented code, a message for people and details for programs. */
export class ComfyVastError extends Error {
  override readonly name = 'ComfyVastError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: ComfyVastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isComfyVastError(value: unknown, code?: ErrorCode): value is ComfyVastError {
  return value instanceof ComfyVastError && (code === undefined || value.code === code);
}
