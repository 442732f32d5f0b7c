import { describe, expect, it } from 'vitest';
import { ManualClock, SlidingWindowLimiter } from '@comfy-vast/core';
import { limiterContract } from './limiter-contract.js';

limiterContract('SlidingWindowLimiter', { make: (options) => new SlidingWindowLimiter(options) });

describe('SlidingWindowLimiter', () => {
  it('answers at once, not with a promise: the API checks every request on this path', () => {
    const limiter = new SlidingWindowLimiter({ rules: [{ name: 'minute', limit: 1, windowMs: 60_000 }], clock: new ManualClock(0) });
    expect(limiter.consume('u')).toMatchObject({ allowed: true, remaining: 0 });
    expect(() => limiter.consumeOrThrow('u')).toThrow(expect.objectContaining({ code: 'RATE_LIMIT_EXCEEDED' }));
  });

  it('forgets keys whose units have all left the windows', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({
      rules: [
        { name: 'minute', limit: 3, windowMs: 60_000 },
        { name: 'hour', limit: 5, windowMs: 3_600_000 },
      ],
      clock,
    });
    limiter.consume('gone');
    await clock.advance(3_600_001);
    limiter.prune();
    expect(limiter.peek('gone')).toMatchObject({ remaining: 3, resetMs: 0 });
  });
});
