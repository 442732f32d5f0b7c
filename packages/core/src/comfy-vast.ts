import { EventEmitter } from 'eventemitter3';
import { DEFAULT_LIMITS, SlidingWindowLimiter, type LimitsConfig } from './limits/index.js';
import { LowdbStore, MemoryStore } from './store/index.js';
import type { Store } from './store/store.js';
import { UserService } from './users/index.js';
import { systemClock, type Clock } from './util/clock.js';
import { silentLogger, type Logger } from './util/logger.js';

export interface ComfyVastOptions {
  /** Where records, images and keys live. Without it (and without `store`) everything stays in memory. */
  dataDir?: string;
  /** A store of your own; by default the lowdb store in `dataDir`. */
  store?: Store;
  clock?: Clock;
  logger?: Logger;
  /** Overrides of the API contract's rate limits, by limiter. */
  limits?: Partial<LimitsConfig>;
}

export interface ComfyVastEvents {
  error: [error: unknown];
}

/**
 * The whole library behind one object: it opens the store, builds each service with what it needs and
 * re-emits their events. Every service is also usable on its own.
 */
export class ComfyVast extends EventEmitter<ComfyVastEvents> {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly users: UserService;
  readonly limiters: Record<keyof LimitsConfig, SlidingWindowLimiter>;

  protected constructor(store: Store, options: ComfyVastOptions) {
    super();
    this.store = store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.limiters = {
      api: new SlidingWindowLimiter({ rules: limits.api, clock: this.clock }),
      generations: new SlidingWindowLimiter({ rules: limits.generations, clock: this.clock }),
      downloadBytes: new SlidingWindowLimiter({ rules: limits.downloadBytes, clock: this.clock }),
    };
    this.users = new UserService({ store, clock: this.clock, logger: this.logger.child({ service: 'users' }) });
  }

  static async open(options: ComfyVastOptions = {}): Promise<ComfyVast> {
    const store = options.store ?? (options.dataDir ? await LowdbStore.open({ dir: options.dataDir, logger: options.logger, clock: options.clock }) : new MemoryStore());
    return new ComfyVast(store, options);
  }

  /** Stops background work and flushes the store. */
  async close(): Promise<void> {
    await this.store.close();
  }
}
