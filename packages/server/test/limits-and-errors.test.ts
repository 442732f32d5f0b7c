import { ComfyVast, MemoryStore, type Collection, type Store, type StoredRecord } from '@comfy-vast/core';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { ADMIN_TOKEN, LogCapture, raw, startTestServer, type TestServer } from './helpers.js';

describe('API rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: 5, hour: 50 } }) });
  });
  afterAll(async () => server.stop());

  it('counts per user, sends RateLimit headers, and answers 429 with Retry-After past the limit', async () => {
    const user = await server.admin.createUser({ body: { username: 'limited' } });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await raw(server, '/api/users/me', { token: user.token });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('5');
      seen.push(Number(res.headers.get('ratelimit-remaining')));
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);
    const refused = await raw(server, '/api/users/me', { token: user.token });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(refused.body.details.window).toBe('minute');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThan(0);

    const other = await raw(server, '/api/users/me', { token: ADMIN_TOKEN });
    expect(other.status).toBe(200);
  });
});

/** A store whose writes fail with a plain error: the one way to reach an unexpected failure from outside. */
class BrokenStore implements Store {
  #inner = new MemoryStore();
  collection<S extends z.ZodType<StoredRecord>>(definition: { name: string; schema: S }) {
    const c = this.#inner.collection(definition);
    const failing = definition.name === 'tokens';
    return new Proxy(c, {
      get: (target, key) => {
        if (failing && key === 'insert' && this.armed) return () => Promise.reject(new Error('disk on fire at /secret/path'));
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Collection<z.infer<S>>;
  }
  armed = false;
  getValue = this.#inner.getValue.bind(this.#inner);
  setValue = this.#inner.setValue.bind(this.#inner);
  flush = () => this.#inner.flush();
  close = () => this.#inner.close();
}

describe('unexpected failures', () => {
  it('answer 500 INTERNAL_ERROR without a stack trace or the cause', async () => {
    const store = new BrokenStore();
    const comfyVast = await ComfyVast.open({ store });
    await comfyVast.users.ensureAdmin(ADMIN_TOKEN);
    const logs = new LogCapture();
    const { fastify } = await buildApp({ comfyVast, logger: createLogger('info', logs), provider: 'simulated', version: '0.0.0' });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const address = fastify.server.address() as { port: number };
    try {
      store.armed = true;
      const res = await raw({ url: `http://127.0.0.1:${address.port}` }, '/api/users/me/tokens', { method: 'POST', token: ADMIN_TOKEN });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'Internal server error', code: 'INTERNAL_ERROR', details: {}, timestamp: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/stack|disk on fire|at /);
      expect(logs.text).toContain('disk on fire');
    } finally {
      await fastify.close();
    }
  });
});
