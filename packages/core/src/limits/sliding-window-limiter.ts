import { ComfyVastError } from '../errors/index.js';
import type { Clock } from '../util/clock.js';

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

interface Entry {
  at: number;
  cost: number;
}

/**
 * A sliding-log limiter: each key keeps the instants of its recent units, so a window is exact at its edges
 * (no burst of twice the limit across a fixed-window boundary). Several windows are checked at once and a
 * request is admitted only when every window has room.
 */
export class SlidingWindowLimiter {
  readonly rules: readonly RateLimitRule[];
  #clock: Clock;
  #log = new Map<string, Entry[]>();
  #longest: number;

  constructor(options: { rules: readonly RateLimitRule[]; clock: Clock }) {
    if (options.rules.length === 0) throw new ComfyVastError('VALIDATION_ERROR', 'A limiter needs at least one rule');
    this.rules = options.rules;
    this.#clock = options.clock;
    this.#longest = Math.max(...options.rules.map((r) => r.windowMs));
  }

  /** What `consume` would answer, without counting anything. */
  peek(key: string, cost = 1): RateLimitResult {
    return this.#evaluate(this.#entries(key), cost);
  }

  /** Counts `cost` units for `key` when every window has room, and says how it stands. */
  consume(key: string, cost = 1): RateLimitResult {
    const entries = this.#entries(key);
    const result = this.#evaluate(entries, cost);
    if (result.allowed) {
      entries.push({ at: this.#clock.now(), cost });
      result.remaining = Math.max(0, result.remaining - cost);
    }
    return result;
  }

  /** `consume`, throwing RATE_LIMIT_EXCEEDED when a window is full. */
  consumeOrThrow(key: string, cost = 1, what = 'requests'): RateLimitResult {
    const result = this.consume(key, cost);
    if (!result.allowed) throw rateLimitError(result, what);
    return result;
  }

  /** Forgets keys whose every entry has left the longest window; call now and then to bound memory. */
  prune(): void {
    for (const key of [...this.#log.keys()]) if (this.#entries(key).length === 0) this.#log.delete(key);
  }

  #entries(key: string): Entry[] {
    let entries = this.#log.get(key);
    if (!entries) {
      entries = [];
      this.#log.set(key, entries);
    }
    const horizon = this.#clock.now() - this.#longest;
    let drop = 0;
    while (drop < entries.length && entries[drop]!.at <= horizon) drop++;
    if (drop > 0) entries.splice(0, drop);
    return entries;
  }

  #evaluate(entries: Entry[], cost: number): RateLimitResult {
    const now = this.#clock.now();
    let worst: RateLimitResult | undefined;
    for (const rule of this.rules) {
      const start = now - rule.windowMs;
      let used = 0;
      let firstInside = -1;
      for (let i = entries.length - 1; i >= 0 && entries[i]!.at > start; i--) {
        used += entries[i]!.cost;
        firstInside = i;
      }
      const allowed = used + cost <= rule.limit;
      const remaining = Math.max(0, rule.limit - used);
      const resetMs = firstInside < 0 ? 0 : entries.at(-1)!.at + rule.windowMs - now;
      const retryAfterMs = allowed ? 0 : timeUntilRoom(entries, firstInside, used + cost - rule.limit, rule.windowMs, now);
      const result: RateLimitResult = { allowed, window: rule.name, limit: rule.limit, remaining, retryAfterMs, resetMs };
      if (!worst || rank(result) > rank(worst)) worst = result;
    }
    return worst!;
  }
}

/** How long until enough of the oldest units inside the window have left it to free `excess` units. */
function timeUntilRoom(entries: Entry[], firstInside: number, excess: number, windowMs: number, now: number): number {
  let freed = 0;
  for (let i = firstInside; i >= 0 && i < entries.length; i++) {
    freed += entries[i]!.cost;
    if (freed >= excess) return Math.max(0, entries[i]!.at + windowMs - now);
  }
  return windowMs;
}

/** Refused beats admitted; among the same, the longer wait, then the fewer remaining. */
function rank(r: RateLimitResult): number {
  return (r.allowed ? 0 : 1e15) + r.retryAfterMs * 1e3 - r.remaining / (r.limit + 1);
}

export function rateLimitError(result: RateLimitResult, what = 'requests'): ComfyVastError {
  const seconds = Math.ceil(result.retryAfterMs / 1000);
  return new ComfyVastError('RATE_LIMIT_EXCEEDED', `Too many ${what}: the limit is ${result.limit} per ${result.window}. Try again in ${seconds} s.`, {
    details: { window: result.window, limit: result.limit, remaining: result.remaining, retryAfter: seconds },
  });
}
