import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComfyVast, ManualClock, MemoryStore, RedisRateLimiter, SlidingWindowLimiter, openRedis, silentLogger, type Redis } from '@comfy-vast/core';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

let server: PrivateRedis;
let admin: Redis;
let comfy: FakeComfy;
const clients: Redis[] = [];
const facades: ComfyVast[] = [];

beforeAll(async () => {
  server = await startPrivateRedis();
  admin = await openRedis({ url: server.url, logger: silentLogger });
  comfy = await startFakeComfy({ timing: { speed: 50 } });
}, 30_000);
afterEach(async () => {
  for (const facade of facades.splice(0)) await facade.close();
  await Promise.all(clients.splice(0).map((c) => c.quit()));
  await admin.flushall();
});
afterAll(async () => {
  await admin?.quit();
  await comfy?.close();
  await server?.stop();
});

/**
 * One API process: records of its own in memory, the Redis and clock every process shares, and the user and the
 * ComfyUI each process knows by the same ids, as replicas on one database do.
 */
async function replica(clock: ManualClock, redis?: Redis): Promise<{ facade: ComfyVast; userId: number; serverId: number }> {
  const facade = await ComfyVast.open({ store: new MemoryStore(), clock, autoStart: false, ...(redis ? { redis } : {}) });
  facades.push(facade);
  const { user } = await facade.users.createUser('ann');
  const attached = await facade.createServer(user.id, { name: 'desk', comfyUrl: comfy.url });
  return { facade, userId: user.id, serverId: attached.id };
}

async function client(): Promise<Redis> {
  const redis = await openRedis({ url: server.url, logger: silentLogger });
  clients.push(redis);
  return redis;
}

const generate = (r: Awaited<ReturnType<typeof replica>>, i: number) => r.facade.generate(r.userId, r.serverId, { prompt: `n${i}`, parameters: { steps: 1 } });

describe('limits shared by API processes through Redis', () => {
  it('refuses the 11th generation of a minute whichever process gets it, and admits again a minute later', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    const [a, b] = [await replica(clock, await client()), await replica(clock, await client())];
    expect(a.userId).toBe(b.userId);
    for (const limiter of [...Object.values(a.facade.limiters), ...Object.values(b.facade.limiters)]) expect(limiter).toBeInstanceOf(RedisRateLimiter);

    for (let i = 0; i < 10; i++) await generate(i % 2 ? a : b, i);
    for (const r of [a, b]) {
      await expect(generate(r, 10)).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { window: 'minute', limit: 10, remaining: 0 } });
    }
    expect(a.facade.listGenerations(a.userId, a.serverId).items.length + b.facade.listGenerations(b.userId, b.serverId).items.length).toBe(10);

    await clock.advance(60_000);
    await expect(generate(b, 11)).resolves.toMatchObject({ generationId: expect.any(Number) });
  }, 30_000);

  it('keeps each process to its own windows without Redis, as before', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    const [a, b] = [await replica(clock), await replica(clock)];
    expect(a.facade.limiters.generations).toBeInstanceOf(SlidingWindowLimiter);
    for (let i = 0; i < 10; i++) await generate(a, i);
    await expect(generate(a, 10)).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    await expect(generate(b, 10)).resolves.toMatchObject({ generationId: expect.any(Number) });
  }, 30_000);
});
