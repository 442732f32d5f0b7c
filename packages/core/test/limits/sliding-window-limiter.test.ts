import { describe, expect, it } from 'vitest';
import { ManualClock, SlidingWindowLimiter } from '@comfy-vast/core';

const rules = [
  { name: 'minute', limit: 3, windowMs: 60_000 },
  { name: 'hour', limit: 5, windowMs: 3_600_000 },
];

describe('SlidingWindowLimiter', () => {
  it('admits up to the limit inside a window and refuses the next', () => {
    const clock = new ManualClock(1_000_000);
    const limiter = new SlidingWindowLimiter({ rules, clock });
    expect([1, 2, 3].map(() => limiter.consume('u').remaining)).toEqual([2, 1, 0]);
    const refused = limiter.consume('u');
    expect(refused).toMatchObject({ allowed: false, window: 'minute', limit: 3, remaining: 0, retryAfterMs: 60_000 });
  });

  it('slides: a unit leaves the window exactly windowMs after it entered, not at a fixed boundary', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ rules: [rules[0]!], clock });
    limiter.consume('u');
    await clock.advance(30_000);
    limiter.consume('u');
    limiter.consume('u');
    await clock.advance(29_999);
    expect(limiter.consume('u').allowed).toBe(false);
    await clock.advance(1);
    expect(limiter.consume('u').allowed).toBe(true);
    expect(limiter.consume('u')).toMatchObject({ allowed: false, retryAfterMs: 30_000 - 0 });
  });

  it('checks every window: the hour refuses when each minute has room', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ rules, clock });
    for (let i = 0; i < 5; i++) {
      expect(limiter.consume('u').allowed).toBe(true);
      await clock.advance(61_000);
    }
    const refused = limiter.consume('u');
    expect(refused).toMatchObject({ allowed: false, window: 'hour' });
    expect(refused.retryAfterMs).toBe(3_600_000 - 5 * 61_000);
  });

  it('keeps keys apart and counts weighted units', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ rules: [{ name: 'day', limit: 100, windowMs: 86_400_000 }], clock });
    expect(limiter.consume('a', 60).allowed).toBe(true);
    expect(limiter.consume('a', 50).allowed).toBe(false);
    expect(limiter.consume('b', 100).allowed).toBe(true);
    expect(limiter.peek('a', 40)).toMatchObject({ allowed: true, remaining: 40 });
  });

  it('throws RATE_LIMIT_EXCEEDED naming the window', () => {
    const limiter = new SlidingWindowLimiter({ rules: [{ name: 'minute', limit: 1, windowMs: 60_000 }], clock: new ManualClock(0) });
    limiter.consumeOrThrow('u', 1, 'generations');
    expect(() => limiter.consumeOrThrow('u', 1, 'generations')).toThrow(expect.objectContaining({ code: 'RATE_LIMIT_EXCEEDED', details: expect.objectContaining({ window: 'minute', retryAfter: 60 }) }));
  });

  it('forgets keys whose units have all left the windows', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ rules, clock });
    limiter.consume('gone');
    await clock.advance(3_600_001);
    limiter.prune();
    expect(limiter.peek('gone')).toMatchObject({ remaining: 3, resetMs: 0 });
  });

  it('stays exact while old units are dropped from a long log, and counts units of one millisecond together', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ rules: [{ name: 'second', limit: 10_000, windowMs: 1000 }, { name: 'minute', limit: 100_000, windowMs: 60_000 }], clock });
    for (let ms = 0; ms < 5000; ms++) {
      limiter.consume('u');
      limiter.consume('u');
      await clock.advance(1);
    }
    // At 5000 ms: the second holds the units of 4001..4999 ms, the minute all 10,000; at 61,000 ms the minute holds those of 1001..4999 ms.
    expect(limiter.peek('u')).toMatchObject({ window: 'second', remaining: 10_000 - 2 * 999 });
    await clock.advance(56_000);
    expect(limiter.peek('u')).toMatchObject({ window: 'minute', remaining: 100_000 - 2 * 3999, resetMs: 4999 + 60_000 - 61_000 });
  });
});
