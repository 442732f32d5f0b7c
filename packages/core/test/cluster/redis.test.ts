import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, redisAddress, silentLogger, type Redis } from '@comfy-vast/core';
import { freePort } from '../helpers/free-port.js';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

describe('openRedis', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('hands out a client that is connected and answers', async () => {
    const redis = await openRedis({ url: server.url, logger: silentLogger, name: 'replica-a' });
    try {
      expect(redis.status).toBe('ready');
      expect(await redis.client('GETNAME')).toBe('replica-a');
    } finally {
      await redis.quit();
    }
  });

  it('refuses with SERVICE_UNAVAILABLE naming host:port, never the password, when nothing listens', async () => {
    const port = await freePort();
    const refused = openRedis({ url: `redis://admin:s3cret-word@127.0.0.1:${port}/0`, logger: silentLogger });
    await expect(refused).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { redis: `127.0.0.1:${port}`, errno: 'ECONNREFUSED' } });
    const error = (await refused.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('s3cret-word');
  });

  it('refuses a wrong password without repeating it', async () => {
    const port = new URL(server.url).port;
    const admin = await openRedis({ url: server.url, logger: silentLogger });
    await admin.config('SET', 'requirepass', 'the-right-one');
    try {
      const refused = (await openRedis({ url: `redis://:s3cret-word@127.0.0.1:${port}`, logger: silentLogger }).catch((e: unknown) => e)) as Error;
      expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { redis: `127.0.0.1:${port}` } });
      expect(refused.message).toMatch(/WRONGPASS/);
      expect(refused.message).not.toContain('s3cret-word');
    } finally {
      await admin.config('SET', 'requirepass', '');
      await admin.quit();
    }
  });

  it('says where a URL points without its credentials, and refuses what is not a Redis URL', () => {
    expect(redisAddress('redis://user:pw@cache.internal:6380/2')).toBe('cache.internal:6380');
    expect(redisAddress('rediss://cache.internal')).toBe('cache.internal:6379');
    expect(() => redisAddress('http://cache.internal')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(() => redisAddress('not a url')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  // A Redis given through the environment is not the tests' to restart.
  it.runIf(!process.env.COMFY_VAST_TEST_REDIS_URL)('reconnects on its own after Redis restarts', async () => {
    const redis: Redis = await openRedis({ url: server.url, logger: silentLogger });
    try {
      await server.restart!(async () => {
        await expect(redis.ping()).rejects.toThrow();
      });
      await expect.poll(() => redis.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    } finally {
      await redis.quit();
    }
  });
});
