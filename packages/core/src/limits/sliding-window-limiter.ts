import type { Clock } from '../util/clock.js';
import { checkRules, rateLimitError, windowRank, windowResult, type RateLimiter, type RateLimitResult, type RateLimitRule } from './rate-limiter.js';

/**
 * One key's recent units, oldest first, in two parallel arrays (no object per unit); units of the same
 * millisecond share one slot. For each rule, `first` is the index of the oldest unit still inside its window and
 * `used` the units from there on, both moved forward as time passes, so a check costs the same however many
 * units the windows hold.
 */
class KeyLog {
  at: number[] = [];
  cost: number[] = [];
  first: number[];
  used: number[];

  constructor(rules: number) {
    this.first = new Array<number>(rules).fill(0);
    this.used = new Array<number>(rules).fill(0);
  }

  get empty(): boolean {
    return this.first.every((i) => i === this.at.length);
  }
}

/** Slots dropped from the front of a log at once: fewer would copy the arrays too often. */
const COMPACT_AT = 1024;

/**
 * A sliding-log limiter: each key keeps the instants of its recent units, so a window is exact at its edges
 * (no burst of twice the limit across a fixed-window boundary). Several windows are checked at once and a
 * request is admitted only when every window has room.
 */
export class SlidingWindowLimiter implements RateLimiter {
  readonly rules: readonly RateLimitRule[];
  #clock: Clock;
  #log = new Map<string, KeyLog>();

  constructor(options: { rules: readonly RateLimitRule[]; clock: Clock }) {
    checkRules(options.rules);
    this.rules = options.rules;
    this.#clock = options.clock;
  }

  /** What `consume` would answer, without counting anything. */
  peek(key: string, cost = 1): RateLimitResult {
    const now = this.#clock.now();
    return this.#evaluate(this.#advance(key, now), cost, now);
  }

  /** Counts `cost` units for `key` when every window has room, and says how it stands. */
  consume(key: string, cost = 1): RateLimitResult {
    const now = this.#clock.now();
    const log = this.#advance(key, now);
    const result = this.#evaluate(log, cost, now);
    if (result.allowed) {
      const last = log.at.length - 1;
      if (last >= 0 && log.at[last] === now) log.cost[last]! += cost;
      else {
        log.at.push(now);
        log.cost.push(cost);
      }
      for (let r = 0; r < log.used.length; r++) log.used[r]! += cost;
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

  /** Forgets keys whose every unit has left the longest window; call now and then to bound memory. */
  prune(): void {
    const now = this.#clock.now();
    for (const key of [...this.#log.keys()]) if (this.#advance(key, now).empty) this.#log.delete(key);
  }

  /** The key's log with every unit that has left a window taken out of that window's count. */
  #advance(key: string, now: number): KeyLog {
    let log = this.#log.get(key);
    if (!log) {
      log = new KeyLog(this.rules.length);
      this.#log.set(key, log);
      return log;
    }
    const { at, cost, first, used } = log;
    let oldest = at.length;
    for (let r = 0; r < this.rules.length; r++) {
      const horizon = now - this.rules[r]!.windowMs;
      let i = first[r]!;
      let u = used[r]!;
      while (i < at.length && at[i]! <= horizon) u -= cost[i++]!;
      first[r] = i;
      used[r] = u;
      if (i < oldest) oldest = i;
    }
    if (oldest >= COMPACT_AT && oldest * 2 >= at.length) {
      at.splice(0, oldest);
      cost.splice(0, oldest);
      for (let r = 0; r < first.length; r++) first[r]! -= oldest;
    }
    return log;
  }

  /** The answer for the window closest to (or over) its limit; one object, whatever the number of windows. */
  #evaluate(log: KeyLog, cost: number, now: number): RateLimitResult {
    let worst = -1;
    let worstRank = -Infinity;
    let worstRetry = 0;
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r]!;
      const used = log.used[r]!;
      const retryAfterMs = used + cost <= rule.limit ? 0 : timeUntilRoom(log, log.first[r]!, used + cost - rule.limit, rule.windowMs, now);
      const rank = windowRank(rule, used, cost, retryAfterMs);
      if (worst < 0 || rank > worstRank) {
        worst = r;
        worstRank = rank;
        worstRetry = retryAfterMs;
      }
    }
    const rule = this.rules[worst]!;
    const inside = log.first[worst]! < log.at.length;
    return windowResult(rule, log.used[worst]!, cost, worstRetry, inside ? log.at.at(-1)! + rule.windowMs - now : 0);
  }
}

/** How long until enough of the oldest units inside the window have left it to free `excess` units. */
function timeUntilRoom(log: KeyLog, firstInside: number, excess: number, windowMs: number, now: number): number {
  let freed = 0;
  for (let i = firstInside; i < log.at.length; i++) {
    freed += log.cost[i]!;
    if (freed >= excess) return Math.max(0, log.at[i]! + windowMs - now);
  }
  return windowMs;
}
