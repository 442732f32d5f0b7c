import type { ApiClient } from '@comfy-vast/server/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startWithAlice, ADMIN_TOKEN, type TestServer } from './helpers.js';
import { openSocket } from './ws-client.js';

let server: TestServer;
let alice: ApiClient;
let aliceToken: string;
let serverId: number;
let aliceId: number;

beforeAll(async () => {
  ({ server, alice, aliceToken, serverId, aliceId } = await startWithAlice());
}, 60_000);
afterAll(async () => server.stop());

const post = (path: string, body: unknown, token = aliceToken) => raw(server, path, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('server scheduler over REST', () => {
  it('starts with nothing scheduled', async () => {
    const view = await alice.getSchedule({ params: { serverId } });
    expect(view).toMatchObject({ server: { id: serverId, name: 'test server', status: 'running' }, schedule: { autoStart: false, autoStop: false }, nextAction: null });
  });

  it('merges the start side and the stop side and plans the next action', async () => {
    const afterStart = await alice.updateScheduleStart({ params: { serverId }, body: { schedule: { autoStart: true, startTime: '08:00', timezone: 'America/New_York' } } });
    expect(afterStart.schedule).toMatchObject({ autoStart: true, startTime: '08:00', timezone: 'America/New_York' });
    expect(afterStart.nextAction).toMatchObject({ action: 'start', scheduledTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/) });

    const afterStop = await alice.updateScheduleStop({ params: { serverId }, body: { schedule: { autoStop: true, stopTime: '18:00', weekdays: [1, 2, 3, 4, 5], idleStopMinutes: 30 } } });
    expect(afterStop.schedule).toEqual({ autoStart: true, autoStop: true, startTime: '08:00', stopTime: '18:00', timezone: 'America/New_York', weekdays: [1, 2, 3, 4, 5], idleStopMinutes: 30 });
    expect(afterStop.nextAction).not.toBeNull();
    expect(await alice.getSchedule({ params: { serverId } })).toEqual({ ...afterStop, nextAction: expect.any(Object) });

    const [listed] = await alice.listServers();
    expect(listed!.idleStopAt).toEqual(expect.any(String));
  });

  it('names the field at fault', async () => {
    const badTime = await post(`/api/server-scheduler/${serverId}/start`, { schedule: { startTime: '25:00' } });
    expect(badTime.status).toBe(400);
    expect(badTime.body.code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(badTime.body.details)).toContain('startTime');
    const badZone = await post(`/api/server-scheduler/${serverId}/stop`, { schedule: { timezone: 'Mars/Olympus' } });
    expect(JSON.stringify(badZone.body.details)).toContain('timezone');
    const badDay = await post(`/api/server-scheduler/${serverId}/stop`, { schedule: { weekdays: [8] } });
    expect(JSON.stringify(badDay.body.details)).toContain('weekdays');
    const sunday = await alice.updateScheduleStart({ params: { serverId }, body: { schedule: { weekdays: [0, 6] } } });
    expect(sunday.schedule.weekdays).toEqual([6, 7]);
  });

  it("answers another user's server as missing, and lists an empty history", async () => {
    const bob = await server.admin.createUser({ body: { username: 'bob' } });
    const foreign = await raw(server, `/api/server-scheduler/${serverId}`, { token: bob.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('SERVER_NOT_FOUND');
    expect((await post(`/api/server-scheduler/${serverId}/start`, { schedule: { autoStart: false } }, bob.token)).status).toBe(404);
    expect(await alice.scheduleHistory({ params: { serverId } })).toEqual([]);
  });
});

describe('budgets', () => {
  it('warns the owner over the WebSocket, and refuses new spending once the budget is spent', async () => {
    const socket = await openSocket(`${server.url.replace('http', 'ws')}/api/ws?token=${aliceToken}`);
    await socket.next((m) => m.type === 'ready');
    expect((await raw(server, `/api/users/${aliceId}/budget`, { method: 'PUT', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ monthlyLimit: 5 }) })).status).toBe(403);
    const status = await server.admin.setBudget({ params: { id: aliceId }, body: { monthlyLimit: 0.000001 } });
    expect(status).toMatchObject({ userId: aliceId, monthlyLimit: 0.000001, level: 'exceeded' });
    expect(await alice.getBudget({ params: { id: aliceId } })).toMatchObject({ level: 'exceeded' });
    expect(await socket.next((m) => m.type === 'budget:exceeded')).toMatchObject({ data: { userId: aliceId, level: 'exceeded' } });
    socket.close();

    const refused = await post('/api/vast-servers', { name: 'more', gpu: 'RTX 4090' });
    expect(refused.status).toBe(402);
    expect(refused.body.code).toBe('BUDGET_EXCEEDED');
    expect((await post(`/api/vast-servers/start/${serverId}`, {})).body.code).toBe('BUDGET_EXCEEDED');

    await server.admin.setBudget({ params: { id: aliceId }, body: { monthlyLimit: null } });
    const other = await raw(server, `/api/users/${aliceId}/budget`, { token: (await server.admin.createUser({ body: { username: 'nosy' } })).token });
    expect(other.status).toBe(404);
    expect((await raw(server, `/api/users/${aliceId}/budget`, { token: ADMIN_TOKEN })).status).toBe(200);
  });
});
