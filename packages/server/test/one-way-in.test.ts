import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchServer, raw, startWithAlice, until, type AliceWorld } from './helpers.js';
import { openSocket } from './ws-client.js';

// Each rule of the library holds the same whether a program calls ComfyVast or a client calls the API.
let world: AliceWorld;
beforeAll(async () => {
  world = await startWithAlice();
}, 60_000);
afterAll(async () => world.server.stop());

describe('one way in: the library and the API keep the same rules', () => {
  it('a deleted server takes its schedule with it, deleted through the library or the API', async () => {
    const { server, alice, aliceId } = world;
    for (const via of ['library', 'api'] as const) {
      const id = await launchServer(alice, `scheduled via ${via}`);
      await alice.updateScheduleStop({ params: { serverId: id }, body: { schedule: { autoStop: true, stopTime: '18:00', idleStopMinutes: 30 } } });
      expect(server.comfyVast.getSchedule(aliceId, id).schedule.autoStop).toBe(true);
      if (via === 'library') await server.comfyVast.deleteServer(aliceId, id);
      else await alice.deleteServer({ params: { id } });
      // The record is gone from the schedules: a server with the same id would start from the defaults.
      await until(async () => server.comfyVast.nextWakeAt, () => true);
      const stored = await raw(server, `/api/server-scheduler/${id}`, { token: world.aliceToken });
      expect(stored.status).toBe(404);
    }
  }, 60_000);

  it('following a generation counts its server as watched for idle stop, through the library or the WebSocket', async () => {
    const { server, alice, aliceId, aliceToken, serverId } = world;
    await alice.updateScheduleStop({ params: { serverId }, body: { schedule: { idleStopMinutes: 30 } } });
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'watched', parameters: { steps: 2 } } });
    await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
    const idleAt = () => server.comfyVast.getServer(aliceId, serverId).idleStopAt;
    expect(idleAt()).toEqual(expect.any(String));

    server.comfyVast.followGeneration(aliceId, started.generationId);
    expect(idleAt()).toBeNull();
    server.comfyVast.unfollowGeneration(started.generationId);
    expect(idleAt()).toEqual(expect.any(String));

    const socket = await openSocket(`${server.url.replace('http', 'ws')}/?token=${aliceToken}`);
    socket.send({ type: 'subscribe', generationId: started.generationId });
    await socket.next((m) => m.type === 'complete');
    expect(idleAt()).toBeNull();
    expect((await alice.getServer({ params: { id: serverId } })).idleStopAt).toBeNull();
    socket.close();
    await until(async () => idleAt(), (at) => at !== null);
  }, 60_000);

  it('a spent budget drains the running server and refuses generating and renting, through the library and the API', async () => {
    const { server, alice, aliceId, serverId } = world;
    // A long generation keeps the server busy, so reaching the budget drains it instead of stopping it at once.
    const long = await alice.generate({ params: { serverId }, body: { prompt: 'long', parameters: { steps: 400 } } });
    await until(() => alice.getProgress({ params: { generationId: long.generationId } }), (p) => p.status === 'executing');
    await server.admin.setBudget({ params: { id: aliceId }, body: { monthlyLimit: 0.000001 } });

    await expect(server.comfyVast.generate(aliceId, serverId, { prompt: 'library' })).rejects.toMatchObject({ code: 'SERVER_NOT_RUNNING', details: { draining: true } });
    const viaApi = await raw(server, `/api/comfy/${serverId}/generate`, { method: 'POST', token: world.aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'api' }) });
    expect(viaApi.status).toBe(409);
    expect(viaApi.body).toMatchObject({ code: 'SERVER_NOT_RUNNING', details: { draining: true } });

    await expect(server.comfyVast.createServer(aliceId, { name: 'more', gpu: 'RTX 4090' })).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    const rent = await raw(server, '/api/vast-servers', { method: 'POST', token: world.aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'more', gpu: 'RTX 4090' }) });
    expect(rent.status).toBe(402);
    expect(rent.body.code).toBe('BUDGET_EXCEEDED');
    await alice.cancelGeneration({ params: { generationId: long.generationId } });
  }, 60_000);
});
