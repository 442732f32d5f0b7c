import { Readable } from 'node:stream';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, launchServer, startTestServer, until } from './helpers.js';

describe('shutdown', () => {
  it('answers a request that arrives on an open connection after shutdown began in the standard error body', async () => {
    const server = await startTestServer();
    const client = new Client(server.url, { pipelining: 2 });
    try {
      // One request stays in flight (its body still coming) while the shutdown starts, holding the connection open.
      const body = new Readable({ read() {} });
      const push = (chunk: string | null) => body.push(chunk);
      const inFlight = client.request({ path: '/api/comfy/analyze-workflow', method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body });
      push('{"workflow":');
      await new Promise((r) => setTimeout(r, 200));
      const closing = server.close();
      await new Promise((r) => setTimeout(r, 100));
      const late = client.request({ path: '/api/health', method: 'GET' });
      push('{}}');
      push(null);

      expect((await inFlight).statusCode).toBe(200);
      const refused = await late;
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(await refused.body.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', timestamp: expect.any(String), details: { retryAfter: 5 } });
      await closing;
    } finally {
      await client.close().catch(() => undefined);
      await server.stop();
    }
  });

  it('ends at once after serving an image, not when the client lets its kept-alive connection go', async () => {
    const server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100' });
    try {
      const { token } = await server.admin.createUser({ body: { username: 'ann' } });
      const ann = server.client(token);
      const serverId = await launchServer(ann);
      const { generationId } = await ann.generate({ params: { serverId }, body: { prompt: 'a kept connection', parameters: { steps: 2 } } });
      await until(() => ann.getProgress({ params: { generationId } }), (p) => p.status === 'completed');
      const [url] = (await ann.listGenerations({ params: { serverId } })).flatMap((g) => g.imageUrls);
      // Streamed to a client that keeps the connection for its next request (fetch keeps it for minutes).
      const image = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
      expect(image.status).toBe(200);
      await image.arrayBuffer();
      // The keep-alive lasts 72 s: a close that waits for it is far behind this.
      const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open after 15 s'), 15_000))]);
      expect(closed).toBe('closed');
    } finally {
      await server.stop();
    }
  }, 60_000);
});
