import { ComfyVast, ManualClock, MemoryStore, openRedis, silentLogger, type Redis } from '@comfy-vast/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../core/test/store/helpers/redis-server.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { ADMIN_TOKEN, LogCapture, raw } from './helpers.js';
import { openSocket } from './ws-client.js';

let redisServer: PrivateRedis;
const closing: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  redisServer = await startPrivateRedis();
}, 30_000);
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
  // Each test's clock starts at the same instant: the windows of the one before must not be there.
  const admin = await openRedis({ url: redisServer.url, logger: silentLogger });
  await admin.flushall();
  await admin.quit();
});
afterAll(async () => redisServer?.stop());

/** One API process listening on loopback: records of its own, the admin by the same token, Redis and the clock shared. */
async function replica(clock: ManualClock): Promise<{ url: string; redis: Redis }> {
  const redis = await openRedis({ url: redisServer.url, logger: silentLogger });
  closing.push(() => redis.quit());
  const comfyVast = await ComfyVast.open({ store: new MemoryStore(), clock, autoStart: false, redis, limits: { api: [{ name: 'minute', limit: 5, windowMs: 60_000 }] } });
  closing.push(() => comfyVast.close());
  await comfyVast.users.ensureAdmin(ADMIN_TOKEN);
  const { fastify } = await buildApp({ comfyVast, logger: createLogger('info', new LogCapture()), provider: 'simulated', version: '0.0.0' });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  closing.push(() => fastify.close());
  return { url: `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}`, redis };
}

describe('the API limit shared by API processes through Redis', () => {
  it('allows a user the limit across every process, refuses the next request on any of them, and admits again a minute later', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    const [a, b] = [await replica(clock), await replica(clock)];
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await raw(i % 2 ? a : b, '/api/users/me', { token: ADMIN_TOKEN });
      expect(res.status).toBe(200);
      remaining.push(res.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    for (const replica of [a, b]) {
      const refused = await raw(replica, '/api/users/me', { token: ADMIN_TOKEN });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('60');
      expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { window: 'minute', limit: 5 } });
    }
    // An anonymous caller is refused before any limit is asked; a URL the router cannot decode still counts.
    expect((await raw(a, '/api/users/me')).status).toBe(401);
    const undecodable = await raw(b, '/api/comfy/images/%E0%A4%A', { token: ADMIN_TOKEN });
    expect(undecodable.status).toBe(429);

    await clock.advance(60_000);
    expect((await raw(b, '/api/users/me', { token: ADMIN_TOKEN })).status).toBe(200);
    const judged = await raw(a, '/api/comfy/images/%E0%A4%A', { token: ADMIN_TOKEN });
    expect(judged.status).toBe(400);
    expect(judged.headers.get('ratelimit-remaining')).toBe('3');
  }, 30_000);

  it('counts WebSocket messages on one process against requests made to another', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    const [a, b] = [await replica(clock), await replica(clock)];
    const socket = await openSocket(`${a.url.replace('http', 'ws')}/?token=${ADMIN_TOKEN}`);
    closing.push(async () => socket.close());
    expect(await socket.next()).toMatchObject({ type: 'ready' });
    socket.send({ type: 'ping' });
    expect(await socket.next()).toEqual({ type: 'pong' });
    // The upgrade and the ping took two; three requests on the other process spend the rest.
    for (let i = 0; i < 3; i++) expect((await raw(b, '/api/users/me', { token: ADMIN_TOKEN })).status).toBe(200);
    socket.send({ type: 'ping' });
    expect(await socket.next()).toMatchObject({ type: 'error', data: { code: 'RATE_LIMIT_EXCEEDED', details: { window: 'minute', limit: 5 } } });
  }, 30_000);

  it.runIf(!process.env.COMFY_VAST_TEST_REDIS_URL)('answers 503 SERVICE_UNAVAILABLE while Redis is away rather than let requests through unlimited', async () => {
    const clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
    const a = await replica(clock);
    expect((await raw(a, '/api/users/me', { token: ADMIN_TOKEN })).status).toBe(200);
    await redisServer.restart!(async () => {
      const refused = await raw(a, '/api/users/me', { token: ADMIN_TOKEN });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/^Rate limits cannot be checked: Redis at 127\.0\.0\.1:\d+/) });
    });
    await expect.poll(async () => (await raw(a, '/api/users/me', { token: ADMIN_TOKEN })).status, { timeout: 10_000 }).toBe(200);
  }, 30_000);
});
