import type { Redis } from 'ioredis';
import { ComfyVastError } from '../errors/index.js';
import type { Clock, Logger, TimerHandle } from '../util/index.js';
import { DEFAULT_REDIS_PREFIX } from './redis.js';

export interface RedisSlotsOptions {
  redis: Redis;
  /** What the slots are counted for, e.g. `downloads`; a key's holders are `<prefix>slots:<name>:<key>`. */
  name: string;
  /** Holders at most per key, counted across every process on this Redis. */
  limit: number;
  clock: Clock;
  logger: Logger;
  /** How long a slot outlives a holder that stopped renewing it, e.g. because its process died (default 30 s). */
  ttlMs?: number;
  /** Time between two renewals of a held slot (default a third of the ttl). */
  renewEveryMs?: number;
  /** Time between two attempts of a waiting `take`, which `wake` cuts short (default 1 s). */
  retryMs?: number;
  /** Prefix of every key (default `comfy-vast:`). */
  prefix?: string;
}

export const DEFAULT_SLOT_TTL_MS = 30_000;
const DEFAULT_SLOT_RETRY_MS = 1_000;

/** The sorted set of a key's holders, each scored by the Redis time at which its slot expires. */
export const slotsKey = (name: string, key: string, prefix = DEFAULT_REDIS_PREFIX): string => `${prefix}slots:${name}:${key}`;

// Redis's own TIME, so that no two processes' clocks are compared. Expired holders go first; a holder already in
// the set is renewed (acquiring again, or renewing, is the same call), a new one gets in while there is room. The
// key lives as long as its longest holder. Answers 1 when the holder holds a slot now, 0 when the key is full.
const ACQUIRE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1`;

/**
 * A counting semaphore in Redis: at most `limit` holders per key across every process. A holder is a name of the
 * work it guards, unique in the installation (a download's id), not of the process: a process that takes the work
 * over from one that is gone takes its slot over with it. Held slots are renewed on the injected clock; a holder
 * whose process dies stops renewing, and its slot frees after the ttl.
 */
export class RedisSlots {
  readonly #redis: Redis;
  readonly #name: string;
  readonly #limit: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  readonly #retryMs: number;
  readonly #prefix: string | undefined;
  /** The renewal timer of each slot held here, by key and holder. */
  readonly #held = new Map<string, TimerHandle>();
  /** What cuts each waiting `take`'s pause short, by key. */
  readonly #waiting = new Map<string, Set<() => void>>();
  /** Set while Redis does not answer, so an outage is logged once and not at every attempt. */
  #unreachable = false;

  constructor(options: RedisSlotsOptions) {
    const ttl = options.ttlMs ?? DEFAULT_SLOT_TTL_MS;
    this.#ttlMs = ttl;
    this.#renewEveryMs = options.renewEveryMs ?? Math.floor(ttl / 3);
    this.#retryMs = options.retryMs ?? DEFAULT_SLOT_RETRY_MS;
    if (!(Number.isInteger(options.limit) && options.limit > 0 && Number.isInteger(ttl) && this.#renewEveryMs > 0 && this.#renewEveryMs < ttl && this.#retryMs > 0)) {
      throw new ComfyVastError('VALIDATION_ERROR', `Slots ${options.name}: expected a positive integer limit, 0 < renewEveryMs < ttlMs and retryMs > 0`, {
        details: { limit: options.limit, ttlMs: ttl, renewEveryMs: this.#renewEveryMs, retryMs: this.#retryMs },
      });
    }
    this.#redis = options.redis;
    this.#name = options.name;
    this.#limit = options.limit;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ slots: options.name });
    this.#prefix = options.prefix;
  }

  /** One attempt: true when `holder` holds one of the key's slots now (renewed from then on until released). */
  async acquire(key: string, holder: string): Promise<boolean> {
    const acquired = await this.#call(key, holder);
    if (acquired) this.#renewLater(key, holder);
    return acquired;
  }

  /**
   * Waits until `holder` holds one of the key's slots: tries again every `retryMs`, and at once when `wake(key)` is
   * called. While Redis does not answer it keeps waiting, since the count it guards cannot be checked. Rejects with
   * the signal's reason once aborted, holding nothing.
   */
  async take(key: string, holder: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      let acquired = false;
      try {
        acquired = await this.acquire(key, holder);
        this.#reachable();
      } catch (error) {
        this.#failed(error, 'a waiting holder tries again until it does');
      }
      if (acquired && signal.aborted) await this.release(key, holder);
      signal.throwIfAborted();
      if (acquired) return;
      await this.#pause(key, signal);
    }
  }

  /** A slot of the key may be free: the `take`s waiting here for it try again now. */
  wake(key: string): void {
    for (const wake of [...(this.#waiting.get(key) ?? [])]) wake();
  }

  /** Frees the holder's slot at once (waiters here try again); when Redis does not answer, it frees after the ttl. */
  async release(key: string, holder: string): Promise<void> {
    this.forget(key, holder);
    try {
      await this.#redis.zrem(slotsKey(this.#name, key, this.#prefix), holder);
    } catch (error) {
      this.#logger.warn({ key, holder, err: describe(error) }, 'Could not free the slot; it frees after its ttl');
    }
    this.wake(key);
  }

  /** Stops renewing the holder's slot and leaves it in Redis: for work another process now runs under the same holder. */
  forget(key: string, holder: string): void {
    const id = heldId(key, holder);
    const timer = this.#held.get(id);
    if (timer) this.#clock.clearTimeout(timer);
    this.#held.delete(id);
  }

  async #call(key: string, holder: string): Promise<boolean> {
    return Number(await this.#redis.eval(ACQUIRE, 1, slotsKey(this.#name, key, this.#prefix), holder, this.#limit, this.#ttlMs)) === 1;
  }

  #renewLater(key: string, holder: string): void {
    const id = heldId(key, holder);
    const previous = this.#held.get(id);
    if (previous) this.#clock.clearTimeout(previous);
    const timer = this.#clock.setTimeout(() => void this.#renew(key, holder, timer), this.#renewEveryMs);
    this.#held.set(id, timer);
  }

  async #renew(key: string, holder: string, timer: TimerHandle): Promise<void> {
    const id = heldId(key, holder);
    let renewed = true;
    try {
      renewed = await this.#call(key, holder);
      this.#reachable();
    } catch (error) {
      this.#failed(error, 'held slots are renewed again once it does, and free after their ttl meanwhile');
    }
    // Released or forgotten meanwhile: the answer changes nothing.
    if (this.#held.get(id) !== timer) return;
    // Its slot expired (Redis unreachable past the ttl, or emptied) and others filled the key: the work it guards goes
    // on, and this holder keeps trying to count in again.
    if (!renewed) this.#logger.warn({ key, holder }, 'A held slot expired and the key is full; the work goes on over the limit until a slot frees');
    this.#renewLater(key, holder);
  }

  #pause(key: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wakers = this.#waiting.get(key) ?? new Set<() => void>();
      this.#waiting.set(key, wakers);
      const done = (settle: () => void) => {
        this.#clock.clearTimeout(timer);
        wakers.delete(wake);
        if (wakers.size === 0) this.#waiting.delete(key);
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      const wake = () => done(resolve);
      const onAbort = () => done(() => reject(signal.reason));
      const timer = this.#clock.setTimeout(wake, this.#retryMs);
      wakers.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #failed(error: unknown, consequence: string): void {
    if (this.#unreachable) return;
    this.#unreachable = true;
    this.#logger.warn({ err: describe(error) }, `Redis does not answer about the slots: ${consequence}`);
  }

  #reachable(): void {
    if (!this.#unreachable) return;
    this.#unreachable = false;
    this.#logger.info({}, 'Redis answers about the slots again');
  }
}

const heldId = (key: string, holder: string) => `${key}\n${holder}`;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
