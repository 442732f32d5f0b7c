/**
 * Every error code comfy-vast reports. The first eight are the API contract's; the rest are additions documented
 * in docs/errors.md. How an API answers each one is the API's business, not the library's.
 */
export const ERROR_CODES = [
  'VAST_API_ERROR',
  'SERVER_NOT_FOUND',
  'SERVER_NOT_RUNNING',
  'COMFY_CONNECTION_FAILED',
  'GENERATION_FAILED',
  'MODEL_NOT_FOUND',
  'WORKFLOW_INVALID',
  'INSUFFICIENT_RESOURCES',
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMIT_EXCEEDED',
  'QUOTA_EXCEEDED',
  'BUDGET_EXCEEDED',
  'STORE_ERROR',
  'SSH_ERROR',
  'NOT_SUPPORTED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(value);
}
