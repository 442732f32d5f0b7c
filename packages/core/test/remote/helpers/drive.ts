import type { ManualClock } from '../../../src/util/index.js';

/**
 * Moves the manual clock while real I/O (an SSH handshake, a remote job) runs: 100 ms of clock per 10 ms of real
 * time, so timers on the clock (backoff, timeouts) fire without the test waiting them out.
 */
export async function driveWithIo<T>(clock: ManualClock, promise: Promise<T>, stepMs = 100, maxSteps = 20_000): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < maxSteps && !settled; i++) {
    await clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return promise;
}
