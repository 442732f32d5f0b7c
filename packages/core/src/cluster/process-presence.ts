import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock, Logger } from '../util/index.js';
import { Lease, leaseKey } from './lease.js';

export interface ProcessPresenceOptions {
  redis: Redis;
  clock: Clock;
  logger: Logger;
  /** How long after the process stops renewing the others count it gone (default the lease's, 10 s). */
  ttlMs?: number;
  prefix?: string;
}

const leaseName = (id: string) => `process:${id}`;

/**
 * Which API processes run: each holds a lease of its own, `process:<id>`, renewed while it lives, so a process
 * killed outright counts as gone once its lease expires, and its work (the generations it followed) can be adopted.
 */
export class ProcessPresence {
  /** This process's id, new at every start: a restarted process adopts what it followed before, like any other. */
  readonly id = randomUUID();
  readonly #redis: Redis;
  readonly #lease: Lease;
  readonly #prefix: string | undefined;

  constructor(options: ProcessPresenceOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#lease = new Lease({ redis: options.redis, name: leaseName(this.id), clock: options.clock, logger: options.logger, ttlMs: options.ttlMs, prefix: options.prefix });
  }

  /** Announces this process; resolves once Redis has answered. */
  start(): Promise<void> {
    return this.#lease.start();
  }

  /** Which of these process ids are announced now. */
  async alive(ids: readonly string[]): Promise<ReadonlySet<string>> {
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.exists(leaseKey(leaseName(id), this.#prefix));
    const answers = (await pipeline.exec()) ?? [];
    const alive = new Set<string>();
    answers.forEach(([error, exists], i) => {
      if (error) throw error;
      if (exists === 1) alive.add(ids[i]!);
    });
    return alive;
  }

  /** Withdraws this process at once, so the others need not wait for its lease to expire. */
  close(): Promise<void> {
    return this.#lease.close();
  }
}
