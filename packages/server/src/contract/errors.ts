import type { ErrorCode } from '@comfy-vast/core';
import { z } from 'zod';
import { IsoDate } from './common.js';

/** The body of every failure. */
export const ErrorBody = z.object({
  error: z.string(),
  code: z.string(),
  details: z.record(z.string(), z.unknown()),
  timestamp: IsoDate,
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The HTTP status the API answers each of the library's error codes with; every code has one. */
export const ERROR_STATUS = {
  VAST_API_ERROR: 502,
  SERVER_NOT_FOUND: 404,
  SERVER_NOT_RUNNING: 409,
  COMFY_CONNECTION_FAILED: 502,
  GENERATION_FAILED: 500,
  MODEL_NOT_FOUND: 404,
  WORKFLOW_INVALID: 400,
  INSUFFICIENT_RESOURCES: 422,
  NOT_FOUND: 404,
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMIT_EXCEEDED: 429,
  QUOTA_EXCEEDED: 409,
  BUDGET_EXCEEDED: 402,
  STORE_ERROR: 500,
  SSH_ERROR: 502,
  NOT_SUPPORTED: 400,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const satisfies Record<ErrorCode, number>;
