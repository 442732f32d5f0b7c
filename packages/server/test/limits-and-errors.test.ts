import { connect } from 'node:net';
import { ComfyVast, MemoryStore, type Collection, type Store, type StoredRecord } from '@comfy-vast/core';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { FIELD_LIMITS } from '../src/contract/limits.js';
import { MAX_JSON_DEPTH } from '../src/http/json-parser.js';
import { createLogger } from '../src/logger.js';
import { ADMIN_TOKEN, LogCapture, launchServer, raw, startTestServer, type TestServer } from './helpers.js';

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

/** Every failure answers in the standard body, with its timestamp. */
function expectErrorBody(res: { status: number; body: any }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: expect.any(String), code, details: expect.any(Object), timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
}

/** `{"a":{"a":...1}}` nested `depth` levels, written directly: JSON.stringify itself overflows on the deepest. */
const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('hostile input', () => {
  let server: TestServer;
  const post = (path: string, body: unknown, token: string | undefined = ADMIN_TOKEN, method = 'POST') =>
    raw(server, path, { method, token, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.stop());

  it('refuses JSON nested deeper than the limit with 400 VALIDATION_ERROR, on every route that takes a body, without a path in the answer', async () => {
    const created = await post('/api/comfy/workflows', { name: 'ok', workflow: { '1': { class_type: 'X', inputs: {} } } });
    expect(created.status).toBe(200);
    for (const [method, path] of [
      ['POST', '/api/comfy/workflows'],
      ['PUT', `/api/comfy/workflow/${created.body.id}`],
      ['POST', '/api/comfy/convert-workflow'],
      ['POST', '/api/comfy/1/generate'],
    ]) {
      for (const depth of [MAX_JSON_DEPTH + 1, 2_000, 5_000, 100_000]) {
        const res = await post(path!, `{"name":"deep","prompt":"p","workflow":${nested(depth)}}`, ADMIN_TOKEN, method);
        expectErrorBody(res, 400, 'VALIDATION_ERROR');
        expect(res.body.details).toMatchObject({ field: 'body', maxDepth: MAX_JSON_DEPTH });
        expect(res.body.error).not.toContain(server.dataDir);
      }
    }
    // Exactly at the limit the body is parsed and judged by the schema instead.
    const atLimit = await post('/api/comfy/workflows', `{"name":"at limit","workflow":{"1":{"class_type":"X","inputs":{"v":${nested(MAX_JSON_DEPTH - 4)}}}}}`);
    expect(atLimit.status).toBe(200);
  });

  it('refuses prototype-poisoning keys anywhere in a body', async () => {
    for (const text of [
      '{"name":"p","workflow":{"__proto__":{"polluted":true}}}',
      '{"__proto__":{"isAdmin":true},"name":"p","workflow":{}}',
      '{"name":"p","workflow":{"1":{"constructor":{"prototype":{"polluted":true}}}}}',
    ]) {
      const res = await post('/api/comfy/workflows', text);
      expectErrorBody(res, 400, 'VALIDATION_ERROR');
      expect(res.body.details.field).toBe('body');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A key merely named "constructor" is an ordinary field.
    const plain = await post('/api/comfy/workflows', '{"name":"c","workflow":{"1":{"class_type":"X","inputs":{"constructor":"fine"}}}}');
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
  });

  it('validates every query parameter through the contract: a 65-character gpu is a 400 naming it, not a 500', async () => {
    const res = await raw(server, `/api/vast-offers?gpu=${'x'.repeat(65)}`, { token: ADMIN_TOKEN });
    expectErrorBody(res, 400, 'VALIDATION_ERROR');
    expect(Object.keys(res.body.details.fields)).toEqual(['gpu']);
    for (const query of ['gpu=RTX&gpuCount=0', 'gpu=RTX&gpuCount=1.5', 'gpu=RTX&ram=99999999', 'gpu=RTX&location=Atlantis', 'gpu=a&gpu=b', '']) {
      expectErrorBody(await raw(server, `/api/vast-offers?${query}`, { token: ADMIN_TOKEN }), 400, 'VALIDATION_ERROR');
    }
    expect((await raw(server, '/api/vast-offers?gpu=RTX%204090&gpuCount=1', { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it('answers URLs the router cannot decode and over-long path parameters in the standard body, and 401 first to an anonymous caller', async () => {
    for (const path of ['/api/comfy/images/%E0%A4%A', `/api/comfy/images/${'a'.repeat(300)}`, `/api/vast-servers/${'9'.repeat(1000)}`]) {
      expectErrorBody(await raw(server, path), 401, 'UNAUTHORIZED');
      expectErrorBody(await raw(server, path, { token: 'not-a-token' }), 401, 'UNAUTHORIZED');
      const res = await raw(server, path, { token: ADMIN_TOKEN });
      expectErrorBody(res, 400, 'VALIDATION_ERROR');
      expect(res.body.details.field).toBe('path');
    }
    // Up to the contract's own limit the contract judges, naming the parameter.
    const long = await raw(server, `/api/comfy/images/${'a'.repeat(201)}`, { token: ADMIN_TOKEN });
    expectErrorBody(long, 400, 'VALIDATION_ERROR');
    expect(Object.keys(long.body.details.fields)).toEqual(['file']);
  });

  it('answers a request that is not HTTP in the standard body', async () => {
    const address = server.app.fastify.server.address() as { port: number };
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(address.port, '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({ error: expect.any(String), code: 'VALIDATION_ERROR', details: expect.any(Object), timestamp: expect.any(String) });
  });

  it('limits the size of each field and names the field at fault', async () => {
    const api = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i + 1), { class_type: 'X', inputs: {} }]));
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/comfy/1/generate', { prompt: 'x'.repeat(FIELD_LIMITS.promptChars + 1) }, 'prompt'],
      ['POST', '/api/comfy/1/generate', { prompt: 'p', negativePrompt: 'x'.repeat(FIELD_LIMITS.promptChars + 1) }, 'negativePrompt'],
      ['POST', '/api/comfy/1/generate', { prompt: 'p', parameters: { sampler: 'x'.repeat(FIELD_LIMITS.samplerChars + 1) } }, 'parameters.sampler'],
      ['POST', '/api/comfy/1/generate', { prompt: 'p', workflow: api(FIELD_LIMITS.workflowNodes + 1) }, 'workflow'],
      ['POST', '/api/comfy/workflows', { name: 'x'.repeat(FIELD_LIMITS.nameChars + 1), workflow: api(1) }, 'name'],
      ['POST', '/api/comfy/workflows', { name: 'n', description: 'x'.repeat(FIELD_LIMITS.descriptionChars + 1), workflow: api(1) }, 'description'],
      ['POST', '/api/comfy/workflows', { name: 'n', workflow: api(1), tags: Array.from({ length: FIELD_LIMITS.tags + 1 }, () => 't') }, 'tags'],
      ['POST', '/api/comfy/workflows', { name: 'n', workflow: { '1': { class_type: 'X', inputs: { text: 'x'.repeat(FIELD_LIMITS.workflowBytes) } } } }, 'workflow'],
      ['POST', '/api/comfy/workflows', { name: 'n', workflow: { nodes: Array.from({ length: FIELD_LIMITS.workflowNodes + 1 }, (_, id) => ({ id })), links: [] } }, 'workflow'],
      ['POST', '/api/comfy/analyze-workflow', { workflow: api(FIELD_LIMITS.workflowNodes + 1) }, 'workflow'],
      ['POST', '/api/users', { username: 'x'.repeat(65) }, 'username'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await post(path, body, ADMIN_TOKEN, method);
      expectErrorBody(res, 400, 'VALIDATION_ERROR');
      expect(Object.keys(res.body.details.fields), `${path} ${field}`).toEqual([field]);
      expect(res.body.error).toContain(field);
    }
    // At the limits everything is accepted.
    const fits = await post('/api/comfy/workflows', { name: 'x'.repeat(FIELD_LIMITS.nameChars), workflow: api(FIELD_LIMITS.workflowNodes) });
    expect(fits.status).toBe(200);
  });
});

describe('the generation limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100', COMFY_VAST_LIMITS: JSON.stringify({ generations: { minute: 1, hour: 100 } }) });
  }, 60_000);
  afterAll(async () => server.stop());

  it('answers its 429 with Retry-After and its own RateLimit headers, not the API limit’s', async () => {
    const serverId = await launchServer(server.admin);
    const generate = () =>
      raw(server, `/api/comfy/${serverId}/generate`, { method: 'POST', token: ADMIN_TOKEN, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a lighthouse' }) });
    expect((await generate()).status).toBe(200);
    const refused = await generate();
    expectErrorBody(refused, 429, 'RATE_LIMIT_EXCEEDED');
    expect(refused.body.details.window).toBe('minute');
    expect(refused.headers.get('ratelimit-limit')).toBe('1');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(retryAfter);
  }, 60_000);
});
