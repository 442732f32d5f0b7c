import type { ApiClient } from '@comfy-vast/server/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startWithAlice, until, type TestServer } from './helpers.js';

let server: TestServer;
let alice: ApiClient;
let aliceToken: string;
let serverId: number;

beforeAll(async () => {
  ({ server, alice, aliceToken, serverId } = await startWithAlice());
}, 60_000);
afterAll(async () => server.stop());

describe('GET /api/comfy/:serverId/object-info', () => {
  it("answers the running server's own node definitions, its checkpoints among the options", async () => {
    const answer = (await alice.getObjectInfo({ params: { serverId } })) as Record<string, any>;
    const checkpoints = ((await alice.listModels({ params: { serverId } })) as Record<string, Array<{ name: string }>>).checkpoints!.map((m) => m.name);
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(answer.CheckpointLoaderSimple.input.required.ckpt_name[0]).toEqual(checkpoints);
    expect(answer).toHaveProperty('KSampler.input.required.steps');
  });

  it("answers 404 SERVER_NOT_FOUND for another user's server, as for a missing one", async () => {
    const bob = await server.admin.createUser({ body: { username: 'bob' } });
    const foreign = await raw(server, `/api/comfy/${serverId}/object-info`, { token: bob.token });
    const missing = await raw(server, '/api/comfy/99999/object-info', { token: aliceToken });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('SERVER_NOT_FOUND');
    expect(missing.status).toBe(404);
    expect(foreign.body.error.replace(/\d+/g, 'N')).toBe(missing.body.error.replace(/\d+/g, 'N'));
  });

  it('answers SERVER_NOT_RUNNING once the server is stopped', async () => {
    await alice.stopServer({ params: { id: serverId } });
    await until(() => alice.getServer({ params: { id: serverId } }), (s) => s.status === 'stopped');
    const stopped = await raw(server, `/api/comfy/${serverId}/object-info`, { token: aliceToken });
    expect(stopped.body.code).toBe('SERVER_NOT_RUNNING');
    expect(stopped.status).toBe(409);
  });
});
