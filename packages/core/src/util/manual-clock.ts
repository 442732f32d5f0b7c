import { ChunkedTimer, MAX_TIMER_DELAY, type Clock, type TimerHandle, type TimerPrimitives } from './clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in order of due time as `advance` passes them,
 * so schedules, rate limits and timeouts are tested without sleeping. Long timers wait in chunks of at most
 * MAX_TIMER_DELAY exactly as on the system clock, and `fired` counts every single timer that ran, so a test
 * sees a timer that spins.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];
  #fired = 0;
  readonly #timers: TimerPrimitives = {
    set: (fn, ms) => {
      if (!(ms <= MAX_TIMER_DELAY)) throw new RangeError(`A single timer cannot hold ${ms} ms`);
      const entry: Pending = { at: this.#now + ms, seq: ++this.#seq, fn };
      this.#pending.push(entry);
      return entry;
    },
    clear: (id) => {
      this.#pending = this.#pending.filter((p) => p !== id);
    },
  };

  constructor(start: number | Date = 0) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return new ChunkedTimer(this.#timers, fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as ChunkedTimer).cancel();
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.#pending.length;
  }

  /** How many single timers have run, chunks of long timers included. */
  get fired(): number {
    return this.#fired;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, each at its own instant. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#pending = this.#pending.filter((p) => p !== next);
      this.#now = Math.max(this.#now, next.at);
      this.#fired++;
      next.fn();
      // Let promise chains started by the timer settle before the next one fires.
      await flushMicrotasks();
    }
    this.#now = Math.max(this.#now, target);
    await flushMicrotasks();
  }

  /** Jumps the wall clock without firing timers, as a suspended laptop or NTP step would. */
  jump(ms: number): void {
    this.#now += ms;
  }

  #nextDue(target: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) {
      if (p.at > target) continue;
      if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}
