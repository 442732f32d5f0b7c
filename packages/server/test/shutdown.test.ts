import { Readable } from 'node:stream';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestServer } from './helpers.js';

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
});
