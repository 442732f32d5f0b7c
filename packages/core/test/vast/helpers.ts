import type { Logger, ManualClock } from '../../src/util/index.js';

/** A logger that keeps every line as text, so tests can look for secrets in it. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const write = (level: string) => (obj: object, msg?: string) => {
      lines.push(`${level} ${JSON.stringify({ ...bindings, ...obj })} ${msg ?? ''}`);
    };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (b) => make({ ...bindings, ...b }) };
  };
  return { logger: make({}), lines };
}

/** Moves the manual clock forward in steps until `promise` settles, letting real I/O run between steps. */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, stepMs = 250, maxSteps = 4000): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < maxSteps && !settled; i++) await clock.advance(stepMs);
  return promise;
}

/** Spacing off: tests that are not about spacing should not have to move the clock. */
export const NO_SPACING = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };
