import type { Clock } from './clock.js';

/**
 * Runs `work` with a signal that aborts once `ms` have passed on `clock`, so a request's limit follows the injected
 * clock (a test drives it with ManualClock) rather than the wall clock. The timer is cleared however `work` ends.
 */
export async function withTimeout<T>(clock: Clock, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(new DOMException(`Timed out after ${ms} ms`, 'TimeoutError')), ms);
  try {
    return await work(controller.signal);
  } finally {
    clock.clearTimeout(timer);
  }
}
