import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, RedisRateLimiter, openRedis, silentLogger, type RateLimitRule, type Redis } from '@comfy-vast/core';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';
import { limiterContract } from './limiter-contract.js';

let server: PrivateRedis;
const clients: Redis[] = [];
const client = async () => {
  const redis = await openRedis({ url: server.url, logger: silentLogger });
  clients.push(redis);
  return redis;
};
let redis: Redis;

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = await client();
}, 30_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
  await server?.stop();
});

/** A prefix of the test's own, so that tests (and runs sharing a Redis given through the environment) never meet. */
const freshPrefix = () => `test-${randomBytes(6).toString('hex')}:`;

limiterContract('RedisRateLimiter', { make: (options) => new RedisRateLimiter({ ...options, redis, name: 'contract', prefix: freshPrefix() }) });

describe('RedisRateLimiter', () => {
  const minute: RateLimitRule[] = [{ name: 'minute', limit: 10, windowMs: 60_000 }];

  it('shares the windows between processes: two clients together get the limit, not twice it', async () => {
    const clock = new ManualClock(0);
    const prefix = freshPrefix();
    const [a, b] = [new RedisRateLimiter({ redis: await client(), rules: minute, clock, name: 'generations', prefix }), new RedisRateLimiter({ redis: await client(), rules: minute, clock, name: 'generations', prefix })];
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).consume('7')));
    expect(answers.filter((r) => r.allowed)).toHaveLength(10);
    expect(await a.peek('7')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 60_000 });
    expect(await b.peek('8')).toMatchObject({ allowed: true, remaining: 10 });
  });

  it('keeps a key in two Redis keys under the prefix, which expire after the longest window', async () => {
    const clock = new ManualClock(1_000_000);
    const prefix = freshPrefix();
    const rules = [...minute, { name: 'hour', limit: 100, windowMs: 3_600_000 }];
    const limiter = new RedisRateLimiter({ redis, rules, clock, name: 'api', prefix });
    await limiter.peek('api:3');
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
    await limiter.consume('api:3', 2);
    const [units, windows] = limiter.keysOf('api:3');
    expect([units, windows]).toEqual([`${prefix}limit:api:{api:3}:units`, `${prefix}limit:api:{api:3}:windows`]);
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual([units, windows]);
    for (const key of [units, windows]) expect(await redis.pttl(key)).toBeGreaterThan(3_600_000 - 5_000);
    for (const key of [units, windows]) expect(await redis.pttl(key)).toBeLessThanOrEqual(3_600_000);
    await clock.advance(3_600_000);
    expect(await limiter.peek('api:3')).toMatchObject({ allowed: true, remaining: 10, resetMs: 0 });
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
  });

  it('holds one member per millisecond, however many units came in it', async () => {
    const clock = new ManualClock(0);
    const limiter = new RedisRateLimiter({ redis, rules: [{ name: 'day', limit: 1e12, windowMs: 86_400_000 }], clock, name: 'downloadBytes', prefix: freshPrefix() });
    for (let i = 0; i < 20; i++) await limiter.consume('5', 1_000_000_000);
    await clock.advance(1);
    await limiter.consume('5', 1);
    expect(await redis.zrange(limiter.keysOf('5')[0], 0, -1)).toEqual(['0:20000000000', '1:1']);
    expect(await limiter.peek('5')).toMatchObject({ remaining: 1e12 - 20_000_000_001 });
  });

  it('counts a window added to the rules from the units already there', async () => {
    const clock = new ManualClock(0);
    const prefix = freshPrefix();
    const before = new RedisRateLimiter({ redis, rules: [{ name: 'hour', limit: 100, windowMs: 3_600_000 }], clock, name: 'api', prefix });
    for (let i = 0; i < 4; i++) await before.consume('u');
    await clock.advance(30_000);
    const after = new RedisRateLimiter({ redis, rules: [{ name: 'minute', limit: 5, windowMs: 60_000 }, ...before.rules], clock, name: 'api', prefix });
    expect(await after.consume('u')).toMatchObject({ allowed: true, window: 'minute', remaining: 0 });
    expect(await after.consume('u')).toMatchObject({ allowed: false, window: 'minute', retryAfterMs: 30_000 });
  });

  it.runIf(!process.env.COMFY_VAST_TEST_REDIS_URL)('refuses with SERVICE_UNAVAILABLE while Redis is away, and counts again once it is back', async () => {
    const clock = new ManualClock(0);
    const limiter = new RedisRateLimiter({ redis, rules: minute, clock, name: 'api', prefix: freshPrefix() });
    await limiter.consume('u');
    await server.restart!(async () => {
      await expect(limiter.consume('u')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { redis: expect.stringMatching(/^127\.0\.0\.1:\d+$/) } });
    });
    // Nothing is persisted: the restarted Redis has neither the units nor the script, which is sent again.
    await expect.poll(() => limiter.consume('u').then((r) => r.remaining, () => 'down'), { timeout: 10_000 }).toBe(9);
  });
});
