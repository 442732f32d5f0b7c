import { ComfyVastError, isErrorCode, type ErrorCode } from '@comfy-vast/core';
import { ERROR_STATUS, type ErrorBody } from '../contract/index.js';

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** A failure in the library's terms, and the status the API answers it with when its code's own does not fit. */
interface KnownFailure {
  error: ComfyVastError;
  status?: number;
}

/** Turns anything thrown into the status and body every failure of the API uses. */
export function toErrorBody(error: unknown, now: Date): { status: number; body: ErrorBody } {
  const known = toKnownFailure(error);
  const status = known ? (known.status ?? ERROR_STATUS[known.error.code]) : 500;
  const body: ErrorBody = {
    error: known?.error.message ?? 'Internal server error',
    code: known?.error.code ?? 'INTERNAL_ERROR',
    details: known?.error.details ?? {},
    timestamp: now.toISOString(),
  };
  return { status, body };
}

/** Framework errors (URL decoding, body parsing, size limits) get the contract's codes; anything else stays unknown. */
function toKnownFailure(error: unknown): KnownFailure | null {
  if (error instanceof ComfyVastError) return { error };
  const e = error as FrameworkError | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return null;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: new ComfyVastError('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB', { details: { limitBytes: 1024 * 1024 } }) };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { error: new ComfyVastError('VALIDATION_ERROR', 'Send the body as application/json', { details: { field: 'content-type' } }), status: 415 };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { error: new ComfyVastError('VALIDATION_ERROR', 'The request body is not valid JSON', { details: { field: 'body', reason: e.message } }) };
    case 'FST_ERR_BAD_URL':
      return { error: new ComfyVastError('VALIDATION_ERROR', 'The URL path is not valid percent-encoding', { details: { field: 'path' } }) };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { error: new ComfyVastError('VALIDATION_ERROR', 'A path parameter is too long', { details: { field: 'path' } }) };
    default:
      if (isErrorCode(e.code)) return { error: new ComfyVastError(e.code, e.message ?? e.code) };
      return e.code.startsWith('FST_') ? otherFrameworkError(e) : null;
  }
}

/** The framework's remaining refusals of a request keep their 4xx status under the contract's nearest code. */
function otherFrameworkError(e: FrameworkError): KnownFailure | null {
  const status = e.statusCode ?? 500;
  if (status < 400 || status >= 500) return null;
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_ERROR';
  return { error: new ComfyVastError(code, e.message ?? 'The request was refused', { details: { reason: e.code } }), status };
}
