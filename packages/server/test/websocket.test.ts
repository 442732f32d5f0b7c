import type { IncomingHttpHeaders } from 'node:http';
import { ManualClock, MemoryStore, SlidingWindowLimiter, UserService, silentLogger } from '@comfy-vast/core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketHub } from '../src/ws/hub.js';
import { ADMIN_TOKEN, raw, startTestServer, type TestServer } from './helpers.js';
import { serveHub } from './hub-server.js';
import { openSocket, type TestSocket } from './ws-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.stop());

/** A socket on the test server's path, its messages checked against the contract. */
const open = (path: string, headers?: Record<string, string>) => openSocket(`${server.url.replace('http', 'ws')}${path}`, { headers });

describe('WebSocket authentication', () => {
  it('accepts a token in the query, on both paths', async () => {
    for (const path of ['/', '/api/ws']) {
      const { ws, next } = await open(`${path}?token=${ADMIN_TOKEN}`);
      expect(await next()).toMatchObject({ type: 'ready' });
      ws.close();
    }
  });

  it('refuses a bad token at the upgrade with 401 and the standard error body, before any WebSocket', async () => {
    const base = server.url.replace('http', 'ws');
    for (const [path, headers] of [
      ['/api/ws?token=nope', {}],
      ['/', { authorization: 'Bearer nope' }],
    ] as const) {
      const refused = await refusedUpgrade(`${base}${path}`, headers);
      expect(refused.status).toBe(401);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(refused.body).toEqual({ error: expect.any(String), code: 'UNAUTHORIZED', details: { reason: 'unknown or revoked token' }, timestamp: expect.any(String) });
    }
  });

  it('accepts a token in an Authorization header', async () => {
    const socket = await open('/api/ws', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(await socket.next()).toMatchObject({ type: 'ready' });
    socket.close();
  });

  it('accepts an auth message first, and refuses subscriptions before it', async () => {
    const { ws, next, send } = await open('/api/ws');
    send({ type: 'subscribe', generationId: 1 });
    expect(await next()).toMatchObject({ type: 'error', data: { code: 'UNAUTHORIZED' } });
    send({ type: 'auth', token: ADMIN_TOKEN });
    expect(await next()).toMatchObject({ type: 'ready' });
    send('not json');
    expect(await next()).toMatchObject({ type: 'error', data: { code: 'VALIDATION_ERROR' } });
    ws.close();
  });

  it('answers a subscription to something that does not exist as missing', async () => {
    const { ws, next, send } = await open(`/api/ws?token=${ADMIN_TOKEN}`);
    await next();
    send({ type: 'subscribe', generationId: 424242 });
    expect(await next()).toEqual({ type: 'error', generationId: 424242, data: { error: 'Generation 424242 not found', code: 'NOT_FOUND', details: {} } });
    ws.close();
  });

  it('closes after an auth message with a bad token', async () => {
    const { ws, next, send } = await open('/');
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    send({ type: 'auth', token: 'bad' });
    expect(await next()).toMatchObject({ type: 'error', data: { code: 'UNAUTHORIZED' } });
    expect(await closed).toBe(4401);
  });
});

/** An upgrade the server is expected to refuse: its HTTP answer, with the JSON body read. */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(text) }));
    });
    ws.once('error', reject);
  });
}

describe('the upgrade passes through the API like any request', () => {
  it('is logged by the request hooks, its token redacted, with the answer that refused it', async () => {
    const secret = 'not-a-token-upgrade-5e4d3c';
    await refusedUpgrade(`${server.url.replace('http', 'ws')}/api/ws?token=${secret}&probe=log`);
    const lines = server.logs.lines.map((line) => JSON.parse(line));
    const incoming = lines.find((l) => l.msg === 'incoming request' && l.req?.url === '/api/ws?token=[redacted]&probe=log');
    expect(incoming).toBeDefined();
    expect(lines.find((l) => l.msg === 'request completed' && l.reqId === incoming.reqId)).toMatchObject({ res: { statusCode: 401 } });
    expect(server.logs.text).not.toContain(secret);
  });

  it('counts against the API limit, and past it answers 429 with Retry-After before any WebSocket', async () => {
    const limited = await startTestServer({ COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: 3 } }) });
    try {
      const base = limited.url.replace('http', 'ws');
      const socket = await openSocket(`${base}/api/ws?token=${ADMIN_TOKEN}`);
      await socket.next();
      socket.close();
      expect((await raw(limited, '/api/users/me', { token: ADMIN_TOKEN })).headers.get('ratelimit-remaining')).toBe('1');
      expect((await raw(limited, '/api/users/me', { token: ADMIN_TOKEN })).headers.get('ratelimit-remaining')).toBe('0');

      const refused = await refusedUpgrade(`${base}/?token=${ADMIN_TOKEN}`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.headers['ratelimit-remaining']).toBe('0');
      expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { window: 'minute', limit: 3 } });

      // Without a token there is no user to count yet: the client may still authenticate by message.
      const anonymous = await openSocket(`${base}/api/ws`);
      anonymous.send({ type: 'auth', token: ADMIN_TOKEN });
      expect(await anonymous.next()).toMatchObject({ type: 'ready' });
      anonymous.close();
    } finally {
      await limited.stop();
    }
  }, 30_000);

  it('upgrades only on the WebSocket paths, after auth as any path', async () => {
    const base = server.url.replace('http', 'ws');
    expect((await refusedUpgrade(`${base}/api/users/me`)).status).toBe(401);
    for (const path of ['/api/users/me', '/api/health', '/nowhere']) {
      const refused = await refusedUpgrade(`${base}${path}`, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(refused.status, path).toBe(404);
      expect(refused.body).toMatchObject({ code: 'NOT_FOUND', error: `No route GET ${path}` });
    }
  });

  it('leaves a plain GET on the WebSocket paths answered as a path without a route', async () => {
    for (const path of ['/', '/api/ws']) {
      expect((await raw(server, path)).status).toBe(401);
      expect((await raw(server, `${path}?token=${ADMIN_TOKEN}`)).status).toBe(401);
      const answer = await raw(server, path, { token: ADMIN_TOKEN });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ code: 'NOT_FOUND', error: `No route GET ${path}` });
    }
  });
});

/** A hub on its own loopback HTTP server, on a manual clock, with an API limit of `perMinute` requests. */
async function hubWorld(options: { perMinute?: number; maxUnauthenticatedPerAddress?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const users = new UserService({ store: new MemoryStore(), clock });
  const { user, token } = await users.createUser('carol');
  const apiLimiter = new SlidingWindowLimiter({ rules: [{ name: 'minute', limit: options.perMinute ?? 1000, windowMs: 60_000 }], clock });
  const hub = new WebSocketHub({ users, logger: silentLogger, apiLimiter, clock, maxUnauthenticatedPerAddress: options.maxUnauthenticatedPerAddress });
  hub.registerTopic('generationId', { subscribe: (userId, id) => (userId === user.id && id === 7 ? [] : null) });
  const served = await serveHub(hub, { users, apiLimiter, clock });
  const url = `${served.url}/api/ws`;
  const sockets: TestSocket[] = [];
  return {
    clock,
    hub,
    apiLimiter,
    url,
    userId: user.id,
    token: token.token,
    async connect(query = ''): Promise<TestSocket & { closed: Promise<number> }> {
      const socket = await openSocket(`${url}${query}`);
      sockets.push(socket);
      const closed = new Promise<number>((r) => socket.ws.once('close', (code) => r(code)));
      return { ...socket, closed };
    },
    async stop() {
      for (const s of sockets) s.close();
      await served.close();
    },
  };
}

describe('WebSocket limits', () => {
  it('closes a socket that has not authenticated 5 s after it connected, on the injected clock', async () => {
    const world = await hubWorld();
    const late = await world.connect();
    const prompt = await world.connect();
    await world.clock.advance(4_000);
    prompt.send({ type: 'auth', token: world.token });
    expect(await prompt.next()).toMatchObject({ type: 'ready' });
    await world.clock.advance(999);
    expect(late.ws.readyState).toBe(late.ws.OPEN);
    await world.clock.advance(1);
    expect(await late.closed).toBe(4401);
    // The one that authenticated in time stays.
    await world.clock.advance(60_000);
    prompt.send({ type: 'ping' });
    expect(await prompt.next()).toEqual({ type: 'pong' });
    await world.stop();
  });

  it('holds at most N unauthenticated sockets per address, and gives a place back on auth or close', async () => {
    const world = await hubWorld({ maxUnauthenticatedPerAddress: 3 });
    const waiting = [await world.connect(), await world.connect(), await world.connect()];
    await expect(world.connect()).rejects.toThrow('HTTP 429');
    // A token in the upgrade does not wait, so it needs no place.
    const withToken = await world.connect(`?token=${world.token}`);
    expect(await withToken.next()).toMatchObject({ type: 'ready' });

    waiting[0]!.send({ type: 'auth', token: world.token });
    expect(await waiting[0]!.next()).toMatchObject({ type: 'ready' });
    const fourth = await world.connect();
    await expect(world.connect()).rejects.toThrow('HTTP 429');
    waiting[1]!.close();
    await waiting[1]!.closed;
    // The server sees the close on its own side of the connection, a moment later.
    for (let i = 0; i < 100 && world.hub.stats.connections > 4; i++) await new Promise((r) => setTimeout(r, 10));
    await world.connect();
    expect(world.hub.stats.connections).toBe(5);
    fourth.close();
    await world.stop();
  });

  it('refuses a burst of unauthenticated upgrades past the cap with 429 and the standard error body', async () => {
    const world = await hubWorld({ maxUnauthenticatedPerAddress: 3 });
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => world.connect()));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(3);
    expect(world.hub.stats.connections).toBe(3);
    const refused = await refusedUpgrade(world.url);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { limit: 3, retryAfter: 5 } });
    await world.stop();
  });

  it('counts the upgrade and every message against the user’s API limit: over it, an error and no action', async () => {
    const world = await hubWorld({ perMinute: 5 });
    const socket = await world.connect(`?token=${world.token}`);
    await socket.next();
    for (let i = 0; i < 3; i++) {
      socket.send({ type: 'ping' });
      expect(await socket.next()).toEqual({ type: 'pong' });
    }
    socket.send('not json');
    expect(await socket.next()).toMatchObject({ data: { code: 'VALIDATION_ERROR' } });
    socket.send({ type: 'subscribe', generationId: 7 });
    expect(await socket.next()).toMatchObject({ type: 'error', data: { code: 'RATE_LIMIT_EXCEEDED', error: expect.stringMatching(/Too many messages: the limit is 5 per minute/), details: { window: 'minute', limit: 5, retryAfter: 60 } } });
    expect(world.hub.subscriberCount('generationId', 7)).toBe(0);
    expect(world.apiLimiter.peek(`api:${world.userId}`).remaining).toBe(0);

    // Once the window has room again, messages act again.
    await world.clock.advance(60_000);
    socket.send({ type: 'subscribe', generationId: 7 });
    expect(await socket.next()).toEqual({ type: 'subscribed', generationId: 7 });
    expect(world.hub.subscriberCount('generationId', 7)).toBe(1);
    await world.stop();
  });

  it('closes a socket that keeps sending past the limit, and one that keeps sending before auth', async () => {
    const world = await hubWorld({ perMinute: 5 });
    const flooding = await world.connect(`?token=${world.token}`);
    await flooding.next();
    for (let i = 0; i < 100; i++) flooding.send({ type: 'ping' });
    expect(await flooding.closed).toBe(1008);

    const anonymous = await world.connect();
    for (let i = 0; i < 100; i++) anonymous.send({ type: 'subscribe', generationId: 7 });
    expect(await anonymous.closed).toBe(1008);
    await world.stop();
  });
});

describe('the messages of the contract', () => {
  it('answers each kind of client message with a message of the contract', async () => {
    const world = await hubWorld();
    const socket = await world.connect(`?token=${world.token}`);
    expect(await socket.next()).toEqual({ type: 'ready', userId: world.userId });
    // Ids may be written as digits, as in a path.
    socket.send({ type: 'subscribe', generationId: '7', since: 0 });
    expect(await socket.next()).toEqual({ type: 'subscribed', generationId: 7 });
    expect(world.hub.subscriberCount('generationId', 7)).toBe(1);
    socket.send({ type: 'unsubscribe', generationId: 7 });
    socket.send({ type: 'ping' });
    expect(await socket.next()).toEqual({ type: 'pong' });
    expect(world.hub.subscriberCount('generationId', 7)).toBe(0);
    // No server topic in this hub: every server is missing, and the answer names it.
    socket.send({ type: 'subscribe', serverId: 3 });
    expect(await socket.next()).toEqual({ type: 'error', serverId: 3, data: { error: 'Server 3 not found', code: 'SERVER_NOT_FOUND', details: {} } });
    socket.send({ type: 'unsubscribe', serverId: 3 });
    socket.send({ type: 'watch', generationId: 7 });
    expect(await socket.next()).toMatchObject({ type: 'error', data: { code: 'VALIDATION_ERROR', error: 'Unknown or malformed message' } });
    await world.stop();
  });
});

describe('WebSocket messages and HTTP requests', () => {
  it('spend the same API limit of a user', async () => {
    const limited = await startTestServer({ COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: 10 } }) });
    try {
      const ws = await openSocket(`${limited.url.replace('http', 'ws')}/api/ws?token=${ADMIN_TOKEN}`);
      await ws.next();
      for (let i = 0; i < 6; i++) {
        ws.send({ type: 'ping' });
        expect(await ws.next()).toEqual({ type: 'pong' });
      }
      // The upgrade was one request, the pings six more.
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const answer = await raw(limited, '/api/users/me', { token: ADMIN_TOKEN });
        expect(answer.status).toBe(200);
        remaining.push(answer.headers.get('ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      expect((await raw(limited, '/api/users/me', { token: ADMIN_TOKEN })).status).toBe(429);
      ws.send({ type: 'ping' });
      expect(await ws.next()).toMatchObject({ type: 'error', data: { code: 'RATE_LIMIT_EXCEEDED' } });
      ws.close();
    } finally {
      await limited.stop();
    }
  }, 30_000);
});
