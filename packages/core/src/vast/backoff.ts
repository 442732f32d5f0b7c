export interface BackoffOptions {
  /** First wait (default 1 s): Vast's thresholds are whole seconds, so shorter waits only earn more 429s. */
  initialMs?: number;
  /** Cap of one wait (default 30 s). */
  maxMs?: number;
  /** Give up once the next wait would end later than this after the first attempt (default 120 s, the CLI's timeout). */
  deadlineMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 1_000, maxMs: 30_000, deadlineMs: 120_000 };

/** The wait before retry number `attempt` (0-based): doubling, with jitter in the upper half so callers spread out. */
export function backoffDelay(attempt: number, options: Required<BackoffOptions>, random: () => number): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
  return Math.round(base / 2 + random() * (base / 2));
}

/** The `threshold=4.5` (seconds) some 429 bodies carry, in milliseconds. */
export function thresholdMs(text: string): number | null {
  const match = /threshold\s*=\s*([0-9]+(?:\.[0-9]+)?)/i.exec(text);
  return match ? Math.ceil(Number(match[1]) * 1000) : null;
}
