import { ComfyVastError } from '../errors/index.js';

/** One window of a limit: at most `limit` units within any `windowMs` span. */
export interface RateLimitRule {
  /** Named in errors and headers, e.g. "minute". */
  name: string;
  limit: number;
  windowMs: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** The window that is closest to (or over) its limit. */
  window: string;
  limit: number;
  remaining: number;
  /** Milliseconds until that window has room again for one more unit (0 when it has room now). */
  retryAfterMs: number;
  /** Milliseconds until that window is entirely empty again. */
  resetMs: number;
}

/** A value now (a limiter of this process) or later (one shared through Redis). */
export type Awaitable<T> = T | Promise<T>;

/**
 * Sliding-window limits on keys, several windows checked at once: a request is admitted only when every window
 * has room. `SlidingWindowLimiter` keeps the windows in this process and answers at once; `RedisRateLimiter`
 * shares them between processes and answers with a promise. Callers take either (see `onResult`).
 */
export interface RateLimiter {
  readonly rules: readonly RateLimitRule[];
  /** What `consume` would answer, without counting anything. */
  peek(key: string, cost?: number): Awaitable<RateLimitResult>;
  /** Counts `cost` units for `key` when every window has room, and says how it stands. */
  consume(key: string, cost?: number): Awaitable<RateLimitResult>;
  /** `consume`, throwing (or rejecting with) RATE_LIMIT_EXCEEDED when a window is full. */
  consumeOrThrow(key: string, cost?: number, what?: string): Awaitable<RateLimitResult>;
}

/**
 * Runs `then` on a limiter's answer: at once when it is there, so a local limiter's callers stay synchronous
 * (no promise per request on the API's hot path), and when it arrives from a shared one.
 */
export function onResult<T>(result: Awaitable<RateLimitResult>, then: (result: RateLimitResult) => T): Awaitable<T> {
  return result instanceof Promise ? result.then(then) : then(result);
}

export function checkRules(rules: readonly RateLimitRule[]): void {
  if (rules.length === 0) throw new ComfyVastError('VALIDATION_ERROR', 'A limiter needs at least one rule');
}

/**
 * Orders a check's windows, the highest answering for it: one that refuses before any with room, then the longer
 * wait, then the less room left. Both limiters pick with it, so they name the same window.
 */
export function windowRank(rule: RateLimitRule, used: number, cost: number, retryAfterMs: number): number {
  return (used + cost <= rule.limit ? 0 : 1e15) + retryAfterMs * 1e3 - Math.max(0, rule.limit - used) / (rule.limit + 1);
}

/** The answer of the window that ranks highest, before the units asked for are counted. */
export function windowResult(rule: RateLimitRule, used: number, cost: number, retryAfterMs: number, resetMs: number): RateLimitResult {
  return {
    allowed: used + cost <= rule.limit,
    window: rule.name,
    limit: rule.limit,
    remaining: Math.max(0, rule.limit - used),
    retryAfterMs,
    resetMs,
  };
}

export function rateLimitError(result: RateLimitResult, what = 'requests'): ComfyVastError {
  const seconds = Math.ceil(result.retryAfterMs / 1000);
  return new ComfyVastError('RATE_LIMIT_EXCEEDED', `Too many ${what}: the limit is ${result.limit} per ${result.window}. Try again in ${seconds} s.`, {
    details: { window: result.window, limit: result.limit, remaining: result.remaining, retryAfter: seconds },
  });
}
