import type { RateLimitRule } from './rate-limiter.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The API contract's limits; deployments override them through the server's configuration. */
export const DEFAULT_LIMITS = {
  api: [
    { name: 'minute', limit: 1000, windowMs: MINUTE },
    { name: 'hour', limit: 10_000, windowMs: HOUR },
  ],
  generations: [
    { name: 'minute', limit: 10, windowMs: MINUTE },
    { name: 'hour', limit: 100, windowMs: HOUR },
    { name: 'day', limit: 1000, windowMs: DAY },
  ],
  downloadBytes: [{ name: 'day', limit: 100 * 1024 ** 3, windowMs: DAY }],
} satisfies Record<string, RateLimitRule[]>;

export type LimitName = keyof typeof DEFAULT_LIMITS;
export type LimitsConfig = Record<LimitName, RateLimitRule[]>;

export const WINDOW_MS = { second: 1000, minute: MINUTE, hour: HOUR, day: DAY } as const;

/** The API limiter's key for a user: every call of theirs counts against the same one, however it came. */
export function apiLimitKey(userId: number): string {
  return `api:${userId}`;
}
