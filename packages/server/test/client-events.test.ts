import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ApiEvent, type ApiEvents } from '@comfy-vast/server/client';
import { startTestServer, type TestServer } from './helpers.js';

/** Collects a stream's events until one matches. */
function collectUntil(events: ApiEvents, last: (event: ApiEvent) => boolean): Promise<ApiEvent[]> {
  const seen: ApiEvent[] = [];
  return new Promise((resolve) => {
    const off = events.on((event) => {
      seen.push(event);
      if (!last(event)) return;
      off();
      resolve(seen);
    });
  });
}

describe('the typed client’s event stream, against the API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.stop());

  it('gives the contract’s messages, typed: a missing generation or server is an error that names it', async () => {
    const events = await server.admin.events();
    const missingGeneration = collectUntil(events, (e) => e.type === 'error');
    events.subscribe({ generationId: 424242, since: 0 });
    const [generationError] = await missingGeneration;
    if (generationError?.type !== 'error' || !('code' in generationError.data)) throw new Error(`not a refusal: ${JSON.stringify(generationError)}`);
    expect(generationError.generationId).toBe(424242);
    expect(generationError.data.code).toBe('NOT_FOUND');

    const missingServer = collectUntil(events, (e) => e.type === 'error');
    events.subscribe({ serverId: 424242 });
    expect(await missingServer).toEqual([{ type: 'error', serverId: 424242, data: { error: 'Server 424242 not found', code: 'SERVER_NOT_FOUND', details: {} } }]);
    events.close();
    expect((await events.closed).code).toBe(1000);
  });
});

describe('the typed client’s event stream, from a server that sends what the contract does not know', () => {
  let wss: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    // Speaks the protocol as a newer or broken server might: unknown types, broken shapes and text that is not JSON.
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; token?: string; generationId?: number };
        if (message.type === 'auth') {
          socket.send(JSON.stringify(message.token === 'good' ? { type: 'ready', userId: 1 } : { type: 'error', data: { error: 'Unknown or revoked token', code: 'UNAUTHORIZED', details: {} } }));
        } else if (message.type === 'subscribe') {
          socket.send(JSON.stringify({ type: 'generation:queued', generationId: message.generationId, position: 3 }));
          socket.send(JSON.stringify({ type: 'progress', generationId: message.generationId, data: { progress: 'half' } }));
          socket.send('not json');
          socket.send(JSON.stringify({ type: 'subscribed', generationId: message.generationId }));
        }
      });
    });
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('skips those messages and goes on with the next one', async () => {
    const events = await createClient({ baseUrl: url, token: 'good' }).events();
    const received = collectUntil(events, (e) => e.type === 'subscribed');
    events.subscribe({ generationId: 5 });
    expect(await received).toEqual([{ type: 'subscribed', generationId: 5 }]);
    events.close();
  });

  it('still refuses a refused token', async () => {
    await expect(createClient({ baseUrl: url, token: 'bad' }).events()).rejects.toThrow('The API refused the token');
  });
});
