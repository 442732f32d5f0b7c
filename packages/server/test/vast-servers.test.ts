import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@comfy-vast/server/client';
import { raw, startTestServer, until, type TestServer } from './helpers.js';

let server: TestServer;
let alice: ApiClient;
let aliceToken: string;
beforeAll(async () => {
  server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100' });
  aliceToken = (await server.admin.createUser({ body: { username: 'alice' } })).token;
  alice = server.client(aliceToken);
});
afterAll(async () => server.stop());

describe('server lifecycle over REST on the simulated provider', () => {
  it('creates, runs with ComfyUI launched, stops, starts and deletes', async () => {
    const created = await alice.createServer({ body: { name: 'GPU Server 1', gpu: 'RTX 4090', gpuCount: 1, cpuCores: 8, ram: 32, disk: 100, location: 'US-East' } });
    expect(created).toMatchObject({ id: expect.any(Number), vastId: expect.stringMatching(/^\d+$/), name: 'GPU Server 1', status: 'creating', pricePerHour: expect.stringMatching(/^\d+\.\d{2}$/) });

    const running = await until(() => alice.listServers(), (list) => list[0]?.status === 'running' && list[0].isLaunched);
    expect(running[0]).toMatchObject({ id: created.id, gpu: 'RTX 4090', isLaunched: true });
    expect(Number.isNaN(Date.parse(running[0]!.createdAt))).toBe(false);

    expect(await alice.stopServer({ params: { id: created.id } })).toEqual({ success: true, message: 'Server stop initiated', status: 'stopping' });
    await until(() => alice.getServer({ params: { id: created.id } }), (s) => s.status === 'stopped');
    expect(await alice.startServer({ params: { id: created.id } })).toEqual({ success: true, message: 'Server start initiated', status: 'starting' });
    await until(() => alice.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched);
    expect(await alice.deleteServer({ params: { id: created.id } })).toMatchObject({ success: true, message: 'Server deletion initiated' });
    expect(await alice.listServers()).toEqual([]);
  }, 60_000);

  it("answers another user's server as missing, and never shows the key or the ComfyUI password", async () => {
    const created = await alice.createServer({ body: { name: 'private', gpu: 'RTX 4090' } });
    const bob = await server.admin.createUser({ body: { username: 'bob' } });
    for (const [method, path] of [
      ['GET', `/api/vast-servers/${created.id}`],
      ['POST', `/api/vast-servers/stop/${created.id}`],
      ['POST', `/api/vast-servers/start/${created.id}`],
      ['DELETE', `/api/vast-servers/${created.id}`],
    ] as const) {
      const foreign = await raw(server, path, { method, token: bob.token });
      const missing = await raw(server, path.replace(String(created.id), '99999'), { method, token: bob.token });
      expect(foreign.status).toBe(404);
      expect(foreign.body.code).toBe('SERVER_NOT_FOUND');
      expect(foreign.body.error.replace(/\d+/g, 'N')).toBe(missing.body.error.replace(/\d+/g, 'N'));
    }
    expect(await server.client(bob.token).listServers()).toEqual([]);
    const listed = JSON.stringify(await alice.listServers());
    expect(listed).not.toContain(server.simulation!.apiKey);
    const instance = server.simulation!.instance(Number(created.vastId))!;
    const password = (instance.extra_env as Array<[string, string]>).find(([k]) => k === 'WEB_PASSWORD')![1];
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(listed).not.toContain(password);
    expect(server.logs.text).not.toContain(server.simulation!.apiKey);
    expect(server.logs.text).not.toContain(password);
  }, 30_000);

  it('validates the create body and answers INSUFFICIENT_RESOURCES when nothing matches', async () => {
    const bad = await raw(server, '/api/vast-servers', { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', gpu: 'RTX 4090', gpuCount: 'two' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    const none = await raw(server, '/api/vast-servers', { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', gpu: 'RTX 4090', gpuCount: 16 }) });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('INSUFFICIENT_RESOURCES');
  }, 30_000);

  it('lists offers before renting, cheapest first', async () => {
    const offers = await alice.listOffers({ query: { gpu: 'RTX 4090', location: 'US-East' } });
    expect(offers.length).toBeGreaterThan(0);
    const prices = offers.map((o) => Number(o.pricePerHour));
    expect([...prices].sort((a, b) => a - b)).toEqual(prices);
  });
});
