import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, raw, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.stop());

function expectErrorBody(body: any, code: string): void {
  expect(body).toEqual({ error: expect.any(String), code, details: expect.any(Object), timestamp: expect.any(String) });
  expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
}

describe('server platform', () => {
  it('answers health without a token', async () => {
    const res = await raw(server, '/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), provider: 'simulated', store: 'embedded' });
  });

  it('refuses every other route without a valid token', async () => {
    for (const token of [undefined, 'wrong-token']) {
      const res = await raw(server, '/api/users/me', { token });
      expect(res.status).toBe(401);
      expectErrorBody(res.body, 'UNAUTHORIZED');
    }
    const unknownRoute = await raw(server, '/api/no-such-thing');
    expect(unknownRoute.status).toBe(401);
  });

  it('answers an unknown route with NOT_FOUND', async () => {
    const res = await raw(server, '/api/no-such-thing', { token: ADMIN_TOKEN });
    expect(res.status).toBe(404);
    expectErrorBody(res.body, 'NOT_FOUND');
  });

  it('answers malformed JSON and schema violations with VALIDATION_ERROR naming the field', async () => {
    const malformed = await raw(server, '/api/users', { method: 'POST', token: ADMIN_TOKEN, headers: { 'content-type': 'application/json' }, body: '{"username":' });
    expect(malformed.status).toBe(400);
    expectErrorBody(malformed.body, 'VALIDATION_ERROR');

    const wrongType = await raw(server, '/api/users', { method: 'POST', token: ADMIN_TOKEN, headers: { 'content-type': 'application/json' }, body: '{"username":42}' });
    expect(wrongType.status).toBe(400);
    expectErrorBody(wrongType.body, 'VALIDATION_ERROR');
    expect(wrongType.body.details.fields).toHaveProperty('username');

    const badParam = await raw(server, '/api/users/me/tokens/abc', { method: 'DELETE', token: ADMIN_TOKEN });
    expect(badParam.status).toBe(400);
    expect(badParam.body.details.fields).toHaveProperty('id');
  });

  it('answers a body over 1 MiB with PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ username: 'x'.repeat(1024 * 1024 + 10) });
    const res = await raw(server, '/api/users', { method: 'POST', token: ADMIN_TOKEN, headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(413);
    expectErrorBody(res.body, 'PAYLOAD_TOO_LARGE');
  });

  it('serves the OpenAPI document of the whole contract', async () => {
    const res = await raw(server, '/api/openapi.json', { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.paths['/api/users/me/tokens/{id}'].delete.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(res.body.paths['/api/health'].get.security).toEqual([]);
    expect(res.body.paths['/api/health/ready'].get.security).toEqual([]);
  });

  it('accepts a trailing slash', async () => {
    const res = await raw(server, '/api/health/');
    expect(res.status).toBe(200);
  });
});
