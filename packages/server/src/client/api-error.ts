import type { ErrorBody } from '../contract/errors.js';

/** A failure answered by the API (or the network), with the contract's code and details. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** Seconds to wait before trying again, from Retry-After on 429. */
  readonly retryAfter: number | null;

  constructor(status: number, body: Partial<ErrorBody>, retryAfter: number | null = null) {
    super(body.error ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? (status === 0 ? 'CONNECTION_FAILED' : 'HTTP_ERROR');
    this.details = body.details ?? {};
    this.retryAfter = retryAfter;
  }
}
