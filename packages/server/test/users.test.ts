import { ApiError } from '@comfy-vast/server/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, raw, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.stop());

async function expectApiError(promise: Promise<unknown>, status: number, code: string): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(status);
  expect((error as ApiError).code).toBe(code);
  return error as ApiError;
}

describe('users and tokens', () => {
  it('lets the admin create users whose token works at once', async () => {
    const created = await server.admin.createUser({ body: { username: 'alice' } });
    expect(created).toEqual({ id: expect.any(Number), username: 'alice', token: expect.stringMatching(/^cv_[A-Za-z0-9_-]{43}$/) });
    const me = await server.client(created.token).me();
    expect(me).toMatchObject({ id: created.id, username: 'alice', role: 'user' });
    expect(JSON.stringify(me)).not.toContain(created.token);
  });

  it('refuses user creation to a non-admin and refuses duplicate names', async () => {
    const bob = await server.admin.createUser({ body: { username: 'bob' } });
    await expectApiError(server.client(bob.token).createUser({ body: { username: 'mallory' } }), 403, 'FORBIDDEN');
    await expectApiError(server.admin.createUser({ body: { username: 'BOB' } }), 409, 'CONFLICT');
    await expectApiError(server.admin.createUser({ body: { username: 'bad name!' } }), 400, 'VALIDATION_ERROR');
  });

  it('rotates tokens: a new one works, a revoked one stops working', async () => {
    const carol = await server.admin.createUser({ body: { username: 'carol' } });
    const first = server.client(carol.token);
    const second = await first.createToken();
    expect(second.token).not.toBe(carol.token);
    const me = await server.client(second.token).me();
    expect(me.tokens.map((t) => t.id)).toContain(second.id);
    const firstId = me.tokens.find((t) => t.id !== second.id)!.id;
    await server.client(second.token).revokeToken({ params: { id: firstId } });
    await expectApiError(first.me(), 401, 'UNAUTHORIZED');
  });

  it("answers another user's token exactly as a missing one", async () => {
    const dave = await server.admin.createUser({ body: { username: 'dave' } });
    const erin = await server.admin.createUser({ body: { username: 'erin' } });
    const erinTokenId = (await server.client(erin.token).me()).tokens[0]!.id;
    const foreign = await raw(server, `/api/users/me/tokens/${erinTokenId}`, { method: 'DELETE', token: dave.token });
    const missing = await raw(server, '/api/users/me/tokens/999999', { method: 'DELETE', token: dave.token });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body.code).toBe(missing.body.code);
    expect(foreign.body.error.replace(/\d+/g, 'N')).toBe(missing.body.error.replace(/\d+/g, 'N'));
    await server.client(erin.token).me();
  });

  it('never writes a token into a log line', async () => {
    const frank = await server.admin.createUser({ body: { username: 'frank' } });
    await server.client(frank.token).me();
    await raw(server, '/api/users/me?token=' + frank.token, { token: frank.token });
    expect(server.logs.lines.length).toBeGreaterThan(0);
    expect(server.logs.text).not.toContain(frank.token);
    expect(server.logs.text).not.toContain(ADMIN_TOKEN);
  });
});
