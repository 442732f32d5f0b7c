import { sleep, type Clock } from '../util/index.js';

/**
 * The endpoints Vast rate-limits separately, each with the minimum interval we keep between two calls.
 * Vast publishes thresholds of 1.0 to 4.5 s (create 4.5, destroy 3.0, show one 2.0, list and manage 1.0).
 */
export const VAST_MIN_INTERVALS_MS = {
  search: 1_000,
  create: 4_500,
  list: 1_000,
  show: 2_000,
  manage: 1_000,
  destroy: 3_000,
  sshKeys: 1_000,
  instanceSsh: 1_000,
  user: 1_000,
} as const;

export type VastEndpoint = keyof typeof VAST_MIN_INTERVALS_MS;

/**
 * Spaces the calls to each endpoint by its minimum interval, in call order: the first call goes at once,
 * the next one waits until the interval since the previous one has passed. Time comes from the clock.
 */
export class RequestSpacer {
  readonly #clock: Clock;
  readonly #intervals: Record<VastEndpoint, number>;
  readonly #nextAt = new Map<VastEndpoint, number>();

  constructor(clock: Clock, intervals: Partial<Record<VastEndpoint, number>> = {}) {
    this.#clock = clock;
    this.#intervals = { ...VAST_MIN_INTERVALS_MS, ...intervals };
  }

  intervalOf(endpoint: VastEndpoint): number {
    return this.#intervals[endpoint];
  }

  /** Resolves when a call to `endpoint` may go; the slot is reserved at once so concurrent callers queue. */
  async acquire(endpoint: VastEndpoint): Promise<void> {
    const now = this.#clock.now();
    const at = Math.max(now, this.#nextAt.get(endpoint) ?? now);
    this.#nextAt.set(endpoint, at + this.#intervals[endpoint]);
    if (at > now) await sleep(this.#clock, at - now);
  }

  /** Pushes the next slot back after Vast said we went too fast. */
  holdOff(endpoint: VastEndpoint, ms: number): void {
    const at = this.#clock.now() + ms;
    if (at > (this.#nextAt.get(endpoint) ?? 0)) this.#nextAt.set(endpoint, at);
  }
}
