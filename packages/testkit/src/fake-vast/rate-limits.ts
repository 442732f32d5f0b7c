/** The endpoints Vast limits separately, with its published minimum intervals (the `threshold=` seconds). */
export const FAKE_VAST_INTERVALS_MS = {
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

export type FakeVastEndpoint = keyof typeof FAKE_VAST_INTERVALS_MS;

/** Network jitter between a client's spacing and our clock; calls this close to the interval pass. */
const GRACE_MS = 20;

/** Vast's rule: a call to an endpoint sooner than its interval after the previous accepted one is refused. */
export class FakeRateLimits {
  readonly #intervals: Record<FakeVastEndpoint, number>;
  readonly #last = new Map<FakeVastEndpoint, number>();

  constructor(intervals: Partial<Record<FakeVastEndpoint, number>>) {
    this.#intervals = { ...FAKE_VAST_INTERVALS_MS, ...intervals };
  }

  set(endpoint: FakeVastEndpoint, ms: number): void {
    this.#intervals[endpoint] = ms;
  }

  /** The refusal text when the call is too soon (and the call is not counted), or null when it may go. */
  check(endpoint: FakeVastEndpoint, now: number): string | null {
    const interval = this.#intervals[endpoint];
    const last = this.#last.get(endpoint);
    if (interval > 0 && last !== undefined && now - last < interval - GRACE_MS) {
      return `API requests too frequent endpoint threshold=${interval / 1000}`;
    }
    this.#last.set(endpoint, now);
    return null;
  }
}
