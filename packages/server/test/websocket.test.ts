import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './helpers.js';

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
