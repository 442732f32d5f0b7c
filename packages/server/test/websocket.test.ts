import { createServer } from 'node:http';
import { ManualClock, MemoryStore, SlidingWindowLimiter, UserService, silentLogger } from '@comfy-vast/core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketHub } from '../src/ws/hub.js';
import { ADMIN_TOKEN, raw, startTestServer, type TestServer } from './helpers.js';
import { openSocket, type TestSocket } from './ws-client.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.stop());

function open(path: string): Promise<{ ws: WebSocket; next: () => Promise<any> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`);
    const queue: any[] = [];
    const waiters: Array<(m: any) => void> = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
    ws.once('open', () => resolve({ ws, next }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('WebSocket authentication', () => {
  it('accepts a token in the query, on both paths', async () => {
    for (const path of ['/', '/api/ws']) {
      const { ws, next } = await open(`${path}?token=${ADMIN_TOKEN}`);
      expect(await next()).toMatchObject({ type: 'ready' });
      ws.close();
    }
  });

  it('refuses a bad token at the upgrade', async () => {
    await expect(open('/api/ws?token=nope')).rejects.toThrow('HTTP 401');
  });

  it('accepts an auth message first, and refuses subscriptions before it', async () => {
    const { ws, next } = await open('/api/ws');
    ws.send(JSON.stringify({ type: 'subscribe', generationId: 1 }));
    expect(await next()).toMatchObject({ type: 'error', data: { code: 'UNAUTHORIZED' } });
    ws.send(JSON.stringify({ type: 'auth', token: ADMIN_TOKEN }));
    expect(await next()).toMatchObject({ type: 'ready' });
    ws.send('not json');
    expect(await next()).toMatchObject({ type: 'error', data: { code: 'VALIDATION_ERROR' } });
    ws.close();
  });

  it('answers a subscription to something that does not exist as missing', async () => {
    const { ws, next } = await open(`/api/ws?token=${ADMIN_TOKEN}`);
    await next();
    ws.send(JSON.stringify({ type: 'subscribe', generationId: 424242 }));
    expect(await next()).toEqual({ type: 'error', generationId: 424242, data: { error: 'Generation 424242 not found', code: 'NOT_FOUND' } });
    ws.close();
  });

  it('closes after an auth message with a bad token', async () => {
    const { ws, next } = await open('/');
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ type: 'auth', token: 'bad' }));
    expect(await next()).toMatchObject({ type: 'error', data: { code: 'UNAUTHORIZED' } });
    expect(await closed).toBe(4401);
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
  const http = createServer();
  http.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(http.address() as { port: number }).port}/api/ws`;
  const sockets: TestSocket[] = [];
  return {
    clock,
    hub,
    apiLimiter,
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
      await hub.close();
      await new Promise((r) => http.close(r));
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

  it('counts every message against the user’s API limit: over it, an error and no action', async () => {
    const world = await hubWorld({ perMinute: 5 });
    const socket = await world.connect(`?token=${world.token}`);
    await socket.next();
    for (let i = 0; i < 4; i++) {
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
      const remaining: string[] = [];
      for (let i = 0; i < 4; i++) {
        const answer = await raw(limited, '/api/users/me', { token: ADMIN_TOKEN });
        expect(answer.status).toBe(200);
        remaining.push(answer.headers.get('ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['3', '2', '1', '0']);
      expect((await raw(limited, '/api/users/me', { token: ADMIN_TOKEN })).status).toBe(429);
      ws.send({ type: 'ping' });
      expect(await ws.next()).toMatchObject({ type: 'error', data: { code: 'RATE_LIMIT_EXCEEDED' } });
      ws.close();
    } finally {
      await limited.stop();
    }
  }, 30_000);
});
