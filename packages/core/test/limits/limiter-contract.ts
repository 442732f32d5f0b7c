import { describe, expect, it } from 'vitest';
import { ManualClock, type RateLimiter, type RateLimitRule } from '@comfy-vast/core';

/** A kind of limiter under the contract: each `make()` starts with no units counted for any key. */
export interface LimiterUnderTest {
  make(options: { rules: readonly RateLimitRule[]; clock: ManualClock }): RateLimiter;
}

const rules = [
  { name: 'minute', limit: 3, windowMs: 60_000 },
  { name: 'hour', limit: 5, windowMs: 3_600_000 },
];

/** What every limiter answers, the local one at once and the shared one through Redis. */
export function limiterContract(name: string, kind: LimiterUnderTest): void {
  describe(`${name} (limiter contract)`, () => {
    it('admits up to the limit inside a window and refuses the next', async () => {
      const limiter = kind.make({ rules, clock: new ManualClock(1_000_000) });
      const remaining = [];
      for (let i = 0; i < 3; i++) remaining.push((await limiter.consume('u')).remaining);
      expect(remaining).toEqual([2, 1, 0]);
      expect(await limiter.consume('u')).toMatchObject({ allowed: false, window: 'minute', limit: 3, remaining: 0, retryAfterMs: 60_000 });
    });

    it('slides: a unit leaves the window exactly windowMs after it entered, not at a fixed boundary', async () => {
      const clock = new ManualClock(0);
      const limiter = kind.make({ rules: [rules[0]!], clock });
      await limiter.consume('u');
      await clock.advance(30_000);
      await limiter.consume('u');
      await limiter.consume('u');
      await clock.advance(29_999);
      expect((await limiter.consume('u')).allowed).toBe(false);
      await clock.advance(1);
      expect((await limiter.consume('u')).allowed).toBe(true);
      expect(await limiter.consume('u')).toMatchObject({ allowed: false, retryAfterMs: 30_000 - 0 });
    });

    it('checks every window: the hour refuses when each minute has room', async () => {
      const clock = new ManualClock(0);
      const limiter = kind.make({ rules, clock });
      for (let i = 0; i < 5; i++) {
        expect((await limiter.consume('u')).allowed).toBe(true);
        await clock.advance(61_000);
      }
      const refused = await limiter.consume('u');
      expect(refused).toMatchObject({ allowed: false, window: 'hour' });
      expect(refused.retryAfterMs).toBe(3_600_000 - 5 * 61_000);
    });

    it('counts nothing for a refused request, in any window', async () => {
      const clock = new ManualClock(0);
      const limiter = kind.make({ rules, clock });
      for (let i = 0; i < 3; i++) await limiter.consume('u');
      for (let i = 0; i < 4; i++) expect((await limiter.consume('u')).allowed).toBe(false);
      await clock.advance(60_000);
      // The hour holds the 3 units admitted, not the 4 refused: 2 more fit.
      expect(await limiter.consume('u')).toMatchObject({ allowed: true, window: 'hour', remaining: 1 });
      expect(await limiter.consume('u')).toMatchObject({ allowed: true, window: 'hour', remaining: 0 });
      expect(await limiter.consume('u')).toMatchObject({ allowed: false, window: 'hour' });
    });

    it('keeps keys apart and counts weighted units', async () => {
      const limiter = kind.make({ rules: [{ name: 'day', limit: 100, windowMs: 86_400_000 }], clock: new ManualClock(0) });
      expect((await limiter.consume('a', 60)).allowed).toBe(true);
      expect((await limiter.consume('a', 50)).allowed).toBe(false);
      expect((await limiter.consume('b', 100)).allowed).toBe(true);
      expect(await limiter.peek('a', 40)).toMatchObject({ allowed: true, remaining: 40 });
    });

    it('counts costs of a hundred gibibytes exactly, and waits for enough of them to leave', async () => {
      const clock = new ManualClock(0);
      const GiB = 1024 ** 3;
      const limiter = kind.make({ rules: [{ name: 'day', limit: 100 * GiB, windowMs: 86_400_000 }], clock });
      await limiter.consume('u', 40 * GiB + 1);
      await clock.advance(3_600_000);
      await limiter.consume('u', 60 * GiB - 2);
      expect(await limiter.peek('u', 1)).toMatchObject({ allowed: true, remaining: 1 });
      // Two bytes more need the first download's bytes gone: a day after it came.
      expect(await limiter.consume('u', 2)).toMatchObject({ allowed: false, remaining: 1, retryAfterMs: 86_400_000 - 3_600_000, resetMs: 86_400_000 });
      await clock.advance(86_400_000 - 3_600_000);
      expect(await limiter.consume('u', 2)).toMatchObject({ allowed: true, remaining: 40 * GiB });
    });

    it('peeks without counting, and says when the window is empty again', async () => {
      const clock = new ManualClock(0);
      const limiter = kind.make({ rules: [rules[0]!], clock });
      expect(await limiter.peek('u')).toMatchObject({ allowed: true, remaining: 3, retryAfterMs: 0, resetMs: 0 });
      await limiter.consume('u');
      await clock.advance(10_000);
      await limiter.consume('u');
      for (let i = 0; i < 3; i++) expect(await limiter.peek('u', 2)).toMatchObject({ allowed: false, remaining: 1, retryAfterMs: 50_000, resetMs: 60_000 });
      expect(await limiter.peek('u')).toMatchObject({ allowed: true, remaining: 1 });
    });

    it('throws RATE_LIMIT_EXCEEDED naming the window', async () => {
      const limiter = kind.make({ rules: [{ name: 'minute', limit: 1, windowMs: 60_000 }], clock: new ManualClock(0) });
      await limiter.consumeOrThrow('u', 1, 'generations');
      await expect(async () => limiter.consumeOrThrow('u', 1, 'generations')).rejects.toThrow(
        expect.objectContaining({ code: 'RATE_LIMIT_EXCEEDED', details: expect.objectContaining({ window: 'minute', retryAfter: 60 }) }),
      );
    });

    it('stays exact while old units leave a long log, and counts units of one millisecond together', async () => {
      const clock = new ManualClock(0);
      const limiter = kind.make({ rules: [{ name: 'second', limit: 10_000, windowMs: 1000 }, { name: 'minute', limit: 100_000, windowMs: 60_000 }], clock });
      for (let ms = 0; ms < 5000; ms++) {
        await limiter.consume('u');
        await limiter.consume('u');
        await clock.advance(1);
      }
      // At 5000 ms: the second holds the units of 4001..4999 ms, the minute all 10,000; at 61,000 ms the minute holds those of 1001..4999 ms.
      expect(await limiter.peek('u')).toMatchObject({ window: 'second', remaining: 10_000 - 2 * 999 });
      await clock.advance(56_000);
      expect(await limiter.peek('u')).toMatchObject({ window: 'minute', remaining: 100_000 - 2 * 3999, resetMs: 4999 + 60_000 - 61_000 });
    });
  });
}
