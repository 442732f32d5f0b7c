import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, RedisSlots, openRedis, silentLogger, slotsKey, type Redis, type RedisSlotsOptions } from '@comfy-vast/core';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

// The cluster-wide counting semaphore against a real Redis, each instance on a connection of its own as each API
// process has. Expiry is Redis's own time (real); renewals and retries run on the injected clock.
let server: PrivateRedis;
let admin: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startPrivateRedis();
  admin = await openRedis({ url: server.url, logger: silentLogger });
}, 30_000);
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

const prefix = () => `test-${randomBytes(4).toString('hex')}:`;
const realDelay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function slots(options: Pick<RedisSlotsOptions, 'clock' | 'prefix'> & Partial<RedisSlotsOptions>): Promise<RedisSlots> {
  const redis = await openRedis({ url: server.url, logger: silentLogger });
  clients.push(redis);
  return new RedisSlots({ redis, name: 'downloads', limit: 2, logger: silentLogger, ...options });
}

const holders = (p: string, key: string) => admin.zrange(slotsKey('downloads', key, p), 0, -1);

describe('RedisSlots', () => {
  it('lets `limit` holders in across several processes, each key counted apart; a holder acquiring again keeps its one slot', async () => {
    const clock = new ManualClock();
    const p = prefix();
    const [a, b, c] = [await slots({ clock, prefix: p }), await slots({ clock, prefix: p }), await slots({ clock, prefix: p })];
    const attempts = [a, b, c, a, b, c].map((instance, i) => ({ instance, holder: `d${i}` }));
    const answers = await Promise.all(attempts.map(({ instance, holder }) => instance.acquire('7', holder)));
    expect(answers.filter(Boolean)).toHaveLength(2);
    const inside = attempts.filter((_, i) => answers[i]);
    expect((await holders(p, '7')).sort()).toEqual(inside.map((x) => x.holder).sort());
    expect(await inside[0]!.instance.acquire('7', inside[0]!.holder)).toBe(true);
    expect(await holders(p, '7')).toHaveLength(2);
    // Another server's key has slots of its own.
    expect(await c.acquire('8', 'd6')).toBe(true);
  });

  it('lets the next holder in once one is released, and wakes a waiting take at once', async () => {
    const clock = new ManualClock();
    const p = prefix();
    const [a, b] = [await slots({ clock, prefix: p }), await slots({ clock, prefix: p })];
    expect(await a.acquire('1', 'd1')).toBe(true);
    expect(await a.acquire('1', 'd2')).toBe(true);
    let taken = false;
    const waiting = b.take('1', 'd3', new AbortController().signal).then(() => (taken = true));
    await realDelay(50);
    expect(taken).toBe(false);
    await a.release('1', 'd1');
    // The other process hears of the end (downloads: through the store's notice) and wakes its waiters; no clock step.
    b.wake('1');
    await waiting;
    expect((await holders(p, '1')).sort()).toEqual(['d2', 'd3']);
  });

  it('tries a waiting take again every retryMs of the injected clock, and stops waiting, holding nothing, when aborted', async () => {
    const clock = new ManualClock();
    const p = prefix();
    const [a, b] = [await slots({ clock, prefix: p, limit: 1 }), await slots({ clock, prefix: p, limit: 1, retryMs: 1_000 })];
    expect(await a.acquire('1', 'd1')).toBe(true);
    let taken = false;
    const waiting = b.take('1', 'd2', new AbortController().signal).then(() => (taken = true));
    await realDelay(50);
    // Released without anyone told: the waiter finds the slot at its next attempt, a second of the clock later.
    await admin.zrem(slotsKey('downloads', '1', p), 'd1');
    await clock.advance(999);
    await realDelay(50);
    expect(taken).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(await holders(p, '1')).toEqual(['d2']);

    const abort = new AbortController();
    const cancelled = b.take('1', 'd3', abort.signal);
    await realDelay(50);
    abort.abort(new Error('cancelled'));
    await expect(cancelled).rejects.toThrow('cancelled');
    expect(await holders(p, '1')).toEqual(['d2']);
  });

  it('frees the slot of a holder that stops renewing after the ttl, and keeps the slot of one that renews', async () => {
    const p = prefix();
    const ttlMs = 600;
    // The holders' clocks: one that never moves (a process that died: no renewal), one that runs with real time.
    const [dead, living, other] = [new ManualClock(), new ManualClock(), new ManualClock()];
    const [a, b, c] = [await slots({ clock: dead, prefix: p, limit: 2, ttlMs }), await slots({ clock: living, prefix: p, limit: 2, ttlMs }), await slots({ clock: other, prefix: p, limit: 2, ttlMs })];
    expect(await a.acquire('1', 'gone')).toBe(true);
    expect(await b.acquire('1', 'alive')).toBe(true);
    expect(await c.acquire('1', 'new')).toBe(false);
    for (let waited = 0; waited < 1_500; waited += 100) {
      await realDelay(100);
      await living.advance(100);
    }
    // Past twice the ttl: the dead holder's slot is free, the renewed one is still held.
    expect(await holders(p, '1')).toEqual(['alive']);
    expect(await c.acquire('1', 'new')).toBe(true);
    expect(await c.acquire('1', 'third')).toBe(false);
    // Released: no longer renewed, and gone at once.
    await b.release('1', 'alive');
    await living.advance(ttlMs);
    expect(await holders(p, '1')).toEqual(['new']);
  });

  // A Redis given through the environment is not the tests' to restart.
  it.runIf(!process.env.COMFY_VAST_TEST_REDIS_URL)('keeps a take waiting while Redis does not answer, says so once, and gets the slot once Redis is back', async () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    const logger = { debug: () => undefined, info: (_o: object, msg: string) => lines.push(`info ${msg}`), warn: (_o: object, msg: string) => lines.push(`warn ${msg}`), error: () => undefined, child: () => logger };
    const waiter = await slots({ clock, prefix: prefix(), limit: 1, logger });
    let taken = false;
    let waiting: Promise<unknown> = Promise.resolve();
    await server.restart!(async () => {
      waiting = waiter.take('1', 'd1', new AbortController().signal).then(() => (taken = true));
      for (let i = 0; i < 3; i++) {
        await realDelay(300);
        await clock.advance(1_000);
      }
      expect(taken).toBe(false);
    });
    for (let i = 0; i < 100 && !taken; i++) {
      await realDelay(50);
      await clock.advance(1_000);
    }
    await waiting;
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(lines).toContain('info Redis answers about the slots again');
  });

  it('refuses a limit below one', () => {
    expect(() => new RedisSlots({ redis: admin, name: 'downloads', limit: 0, clock: new ManualClock(), logger: silentLogger })).toThrow(/limit/);
  });
});
