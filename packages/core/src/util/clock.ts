/** Where time comes from. Injected everywhere so that time-based code is tested without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`, however long: delays past what one timer holds are waited out in chunks. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: unknown;
}

/**
 * The longest delay one Node timer holds. A longer one fires after 1 ms with a TimeoutOverflowWarning, so a timer
 * set to the end of a month (up to 31 days) would fire at once and, re-armed, spin.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** The single timers a clock is built on; each delay given to `set` is at most MAX_TIMER_DELAY. */
export interface TimerPrimitives {
  set(fn: () => void, ms: number): unknown;
  clear(id: unknown): void;
}

/** One timer of any length over timers that hold at most MAX_TIMER_DELAY: waits in chunks, re-arming between them. */
export class ChunkedTimer implements TimerHandle {
  id: unknown;
  readonly #timers: TimerPrimitives;

  constructor(timers: TimerPrimitives, fn: () => void, ms: number) {
    this.#timers = timers;
    // NaN and negative delays fire at the next turn, as Node does; Infinity never fires.
    this.#arm(fn, Number.isNaN(ms) ? 0 : Math.max(0, ms));
  }

  cancel(): void {
    this.#timers.clear(this.id);
  }

  #arm(fn: () => void, remaining: number): void {
    const chunk = Math.min(remaining, MAX_TIMER_DELAY);
    this.id = this.#timers.set(() => (remaining > chunk ? this.#arm(fn, remaining - chunk) : fn()), chunk);
  }
}

const nodeTimers: TimerPrimitives = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear(id) {
    clearTimeout(id as NodeJS.Timeout);
  },
};

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => new ChunkedTimer(nodeTimers, fn, ms),
  clearTimeout(handle) {
    (handle as ChunkedTimer).cancel();
  },
};

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
