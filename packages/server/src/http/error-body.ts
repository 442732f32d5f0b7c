import { ComfyVastError, ERROR_CODES, type ErrorCode } from '@comfy-vast/core';
import type { ErrorBody } from '../contract/index.js';

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** Turns anything thrown into the status and body every failure of the API uses. */
export function toErrorBody(error: unknown, now: Date): { status: number; body: ErrorBody } {
  const known = toComfyVastError(error);
  const status = known?.status ?? 500;
  const body: ErrorBody = {
    error: known?.message ?? 'Internal server error',
    code: known?.code ?? 'INTERNAL_ERROR',
    details: known?.details ?? {},
    timestamp: now.toISOString(),
  };
  return { status, body };
}

/** Framework errors (URL decoding, body parsing, size limits) get the contract's codes; anything else stays unknown. */
function toComfyVastError(error: unknown): ComfyVastError | null {
  if (error instanceof ComfyVastError) return error;
  const e = error as FrameworkError | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return null;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ComfyVastError('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB', { details: { limitBytes: 1024 * 1024 } });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ComfyVastError('VALIDATION_ERROR', 'Send the body as application/json', { status: 415, details: { field: 'content-type' } });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ComfyVastError('VALIDATION_ERROR', 'The request body is not valid JSON', { details: { field: 'body', reason: e.message } });
    case 'FST_ERR_BAD_URL':
      return new ComfyVastError('VALIDATION_ERROR', 'The URL path is not valid percent-encoding', { details: { field: 'path' } });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ComfyVastError('VALIDATION_ERROR', 'A path parameter is too long', { details: { field: 'path' } });
    default:
      if (e.code in ERROR_CODES) return new ComfyVastError(e.code as ErrorCode, e.message ?? e.code);
      return e.code.startsWith('FST_') ? otherFrameworkError(e) : null;
  }
}

/** The framework's remaining refusals of a request keep their 4xx status under the contract's nearest code. */
function otherFrameworkError(e: FrameworkError): ComfyVastError | null {
  const status = e.statusCode ?? 500;
  if (status < 400 || status >= 500) return null;
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_ERROR';
  return new ComfyVastError(code, e.message ?? 'The request was refused', { status, details: { reason: e.code } });
}
