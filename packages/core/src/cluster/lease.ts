import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import type { Redis } from 'ioredis';
import { ComfyVastError } from '../errors/index.js';
import type { Clock, Logger, TimerHandle } from '../util/index.js';
import { DEFAULT_REDIS_PREFIX } from './redis.js';

export interface LeaseOptions {
  redis: Redis;
  /** What the lease guards, e.g. `background`; the key is `<prefix>lease:<name>`. */
  name: string;
  clock: Clock;
  logger: Logger;
  /** How long Redis keeps the lease after the holder's last acquisition or renewal (default 10 s). */
  ttlMs?: number;
  /** Time between two renewals while held (default a third of the ttl). */
  renewEveryMs?: number;
  /**
   * How long after sending its last successful acquisition or renewal the holder still counts itself the holder
   * (default 80 % of the ttl). Below the ttl, so a holder that cannot renew stops before Redis lets another in.
   */
  renewDeadlineMs?: number;
  /** Time between two acquisition attempts while another process holds the lease (default a tenth of the ttl). */
  retryMs?: number;
  /** Prefix of every key (default `comfy-vast:`). */
  prefix?: string;
}

export type LeaseLossReason = 'taken' | 'deadline' | 'released';

export interface LeaseEvents {
  /** This process holds the lease; `fence` is higher than any earlier holder's (every acquisition increments it). */
  acquired: [fence: number];
  /** This process no longer holds the lease and must stop the work it guards now. */
  lost: [reason: LeaseLossReason];
}

export const DEFAULT_LEASE_TTL_MS = 10_000;

/** The key of a named lease: whoever holds it, the key exists; once it expired or was released, it does not. */
export const leaseKey = (name: string, prefix = DEFAULT_REDIS_PREFIX): string => `${prefix}lease:${name}`;

// A positive answer is the new fence; zero or less means another holds the key for -answer ms more. Taking back a
// key still carrying our own token (a renewal answered after we had given up) counts as a new acquisition.
const ACQUIRE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -redis.call('PTTL', KEYS[1]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('INCR', KEYS[2])`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * An attempt's deadline, started when the command is sent. Two clocks meet here: the timers (when to renew, when to
 * give up) run on the injected clock, while the expiry itself is Redis's `PX`, counted by the Redis server from
 * when the command reached it, which is after it was sent. So a deadline below the ttl, started at sending, falls
 * before Redis's expiry as long as the injected clock runs at most (ttl - renewDeadline) / ttl slower than Redis's:
 * only the rates of the two clocks are compared, never their readings. A holder paused past its deadline (a long
 * garbage collection, a suspended machine) can still act once before its timer fires: no timing rule prevents
 * that, which is why each holding carries a fencing number higher than every earlier one.
 */
interface Attempt {
  handle: TimerHandle;
  /** Its deadline passed before the answer came: the answer no longer makes us the holder. */
  expired: boolean;
  /** It is the holder's current deadline: when it passes, the lease is lost. */
  current: boolean;
}

/**
 * One named lease in Redis: at most one process at a time holds it and runs the work it guards. Acquired with
 * `SET NX PX` (and an INCR of the fencing counter), renewed by compare-and-PEXPIRE, released by compare-and-DEL.
 * `start` keeps trying to acquire until `close`; a holder that cannot renew in time emits `lost` and tries again.
 */
export class Lease extends EventEmitter<LeaseEvents> {
  readonly key: string;
  readonly #fenceKey: string;
  readonly #token = `${hostname()}:${process.pid}:${randomBytes(8).toString('hex')}`;
  readonly #redis: Redis;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  #state: 'idle' | 'seeking' | 'holding' | 'closed' = 'idle';
  #fence: number | null = null;
  #deadline: Attempt | null = null;
  #next: TimerHandle | null = null;
  #inFlight: Promise<void> | null = null;
  #answered = false;
  /** Set while Redis does not answer, so an outage is logged once and not at every attempt. */
  #unreachable = false;

  constructor(options: LeaseOptions) {
    super();
    const ttl = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#ttlMs = ttl;
    this.#renewEveryMs = options.renewEveryMs ?? Math.floor(ttl / 3);
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.floor(ttl * 0.8);
    this.#retryMs = options.retryMs ?? Math.max(1, Math.floor(ttl / 10));
    if (!(Number.isInteger(ttl) && this.#renewEveryMs > 0 && this.#renewEveryMs < this.#renewDeadlineMs && this.#renewDeadlineMs < ttl && this.#retryMs > 0)) {
      throw new ComfyVastError('VALIDATION_ERROR', `Lease ${options.name}: expected 0 < renewEveryMs < renewDeadlineMs < ttlMs and retryMs > 0`, {
        details: { ttlMs: ttl, renewEveryMs: this.#renewEveryMs, renewDeadlineMs: this.#renewDeadlineMs, retryMs: this.#retryMs },
      });
    }
    this.key = leaseKey(options.name, options.prefix);
    this.#fenceKey = `${this.key}:fence`;
    this.#redis = options.redis;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ lease: this.key });
  }

  /** True while this process holds the lease. */
  get held(): boolean {
    return this.#state === 'holding';
  }

  /** The fencing number of the current holding, or null when not held. */
  get fence(): number | null {
    return this.#state === 'holding' ? this.#fence : null;
  }

  /** False until Redis first answered an attempt (or the lease was closed): until then, who holds it is not known. */
  get known(): boolean {
    return this.#answered;
  }

  /** Starts trying to acquire; resolves once the first attempt is over, held or not. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'seeking';
    await this.#attempt();
  }

  /** Stops trying; a holder emits `lost` ('released') first, then deletes the key if it still carries its token. */
  async close(): Promise<void> {
    const wasHolding = this.#state === 'holding';
    this.#state = 'closed';
    this.#answered = true;
    this.#clearTimers();
    if (wasHolding) this.emit('lost', 'released');
    await this.#inFlight;
    await this.#redis.eval(RELEASE, 1, this.key, this.#token).catch((err: unknown) => {
      this.#logger.warn({ err: describe(err) }, 'Could not release the lease; it expires on its own');
    });
  }

  async #attempt(): Promise<void> {
    if (this.#inFlight || (this.#state !== 'seeking' && this.#state !== 'holding')) return;
    const renewing = this.#state === 'holding';
    const attempt: Attempt = { handle: this.#clock.setTimeout(() => this.#passed(attempt), this.#renewDeadlineMs), expired: false, current: false };
    this.#inFlight = (renewing ? this.#renew(attempt) : this.#acquire(attempt)).finally(() => {
      this.#inFlight = null;
      if (!attempt.current) this.#clock.clearTimeout(attempt.handle);
    });
    await this.#inFlight;
  }

  async #acquire(attempt: Attempt): Promise<void> {
    let answer: number;
    try {
      answer = Number(await this.#redis.eval(ACQUIRE, 2, this.key, this.#fenceKey, this.#token, this.#ttlMs));
    } catch (error) {
      this.#failed(error);
      return this.#again(this.#retryMs);
    }
    this.#reachable();
    if (this.#state !== 'seeking') return;
    if (answer <= 0 || attempt.expired) return this.#again(answer <= 0 ? Math.min(this.#retryMs, Math.max(1, -answer)) : 0);
    this.#fence = answer;
    this.#state = 'holding';
    this.#adopt(attempt);
    this.#logger.info({ fence: answer }, 'Acquired the lease');
    this.#again(this.#renewEveryMs);
    this.emit('acquired', answer);
  }

  async #renew(attempt: Attempt): Promise<void> {
    let renewed: boolean;
    try {
      renewed = Number(await this.#redis.eval(RENEW, 1, this.key, this.#token, this.#ttlMs)) === 1;
    } catch (error) {
      this.#failed(error);
      return this.#again(this.#state === 'holding' ? this.#renewEveryMs : this.#retryMs);
    }
    this.#reachable();
    // Given up meanwhile (its deadline passed): take it back at once if it is still ours.
    if (this.#state !== 'holding') return this.#again(0);
    if (!renewed) {
      this.#lose('taken');
      return this.#again(this.#retryMs);
    }
    if (!attempt.expired) this.#adopt(attempt);
    this.#again(this.#renewEveryMs);
  }

  /** The attempt's deadline becomes the holder's, replacing the older one. */
  #adopt(attempt: Attempt): void {
    if (this.#deadline) this.#clock.clearTimeout(this.#deadline.handle);
    attempt.current = true;
    this.#deadline = attempt;
  }

  #passed(attempt: Attempt): void {
    attempt.expired = true;
    if (attempt.current && this.#state === 'holding') this.#lose('deadline');
  }

  #lose(reason: LeaseLossReason): void {
    this.#state = 'seeking';
    this.#fence = null;
    this.#clearTimers();
    this.#logger.warn({ reason }, reason === 'taken' ? 'Lost the lease: another process holds it' : 'Lost the lease: it could not be renewed in time');
    this.emit('lost', reason);
    // A renewal still on its way plans the next attempt when it is answered.
    this.#again(this.#inFlight ? null : 0);
  }

  /** Plans the next attempt in `ms` (null: none, the attempt in flight plans it when answered). */
  #again(ms: number | null): void {
    if (this.#next) this.#clock.clearTimeout(this.#next);
    this.#next = null;
    if (ms === null || this.#state === 'closed' || this.#state === 'idle') return;
    this.#next = this.#clock.setTimeout(() => {
      this.#next = null;
      void this.#attempt();
    }, ms);
  }

  #clearTimers(): void {
    if (this.#deadline) this.#clock.clearTimeout(this.#deadline.handle);
    this.#deadline = null;
    if (this.#next) this.#clock.clearTimeout(this.#next);
    this.#next = null;
  }

  #failed(error: unknown): void {
    if (this.#unreachable) return;
    this.#unreachable = true;
    this.#logger.warn({ err: describe(error) }, 'Redis does not answer: the lease cannot be renewed or acquired; retrying until it does');
  }

  #reachable(): void {
    this.#answered = true;
    if (!this.#unreachable) return;
    this.#unreachable = false;
    this.#logger.info({}, 'Redis answers the lease again');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
