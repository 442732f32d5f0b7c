import { ComfyVast, ManualClock, MemoryStore, schedulesCollection } from '@comfy-vast/core';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const USER = 1;
let vast: FakeVast | undefined;
let comfyVast: ComfyVast | undefined;

afterEach(async () => {
  await comfyVast?.close();
  await vast?.close();
});

describe('the facade keeps its rules', () => {
  it('forgets a server’s schedule when the server is deleted', async () => {
    vast = await startFakeVast({ speed: 1_000 });
    const store = new MemoryStore();
    comfyVast = await ComfyVast.open({ store, vast: { apiKey: vast.apiKey, baseUrl: vast.url, pollIntervalMs: 1_000 } });
    const created = await comfyVast.createServer(USER, { name: 'scheduled', gpu: 'RTX 4090' });
    await comfyVast.updateSchedule(USER, created.id, 'stop', { schedule: { autoStop: true, stopTime: '18:00', idleStopMinutes: 30 } });
    const schedules = store.collection(schedulesCollection);
    expect(schedules.all().map((s) => s.serverId)).toEqual([created.id]);

    await comfyVast.deleteServer(USER, created.id);
    await new Promise((r) => setImmediate(r));
    expect(schedules.all()).toEqual([]);
  });

  it('answers another user’s budget as a missing user, and an admin’s question about anybody', async () => {
    comfyVast = await ComfyVast.open({});
    const { user: ann } = await comfyVast.users.createUser('ann');
    const { user: bob } = await comfyVast.users.createUser('bob');
    await comfyVast.users.ensureAdmin('a'.repeat(40));
    const admin = comfyVast.users.findByUsername('admin')!;
    expect(comfyVast.getBudget(ann, ann.id)).toMatchObject({ userId: ann.id, monthlyLimit: null });
    expect(() => comfyVast!.getBudget(ann, bob.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => comfyVast!.getBudget(ann, 999)).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: 'User 999 not found' }));
    expect(comfyVast.getBudget(admin, bob.id)).toMatchObject({ userId: bob.id });
  });

  it('spends on the budget what the server says it cost, at the exact prices Vast reported', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8));
    vast = await startFakeVast({ now: () => clock.now(), intervalsMs: { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 } });
    comfyVast = await ComfyVast.open({ clock, vast: { apiKey: vast.apiKey, baseUrl: vast.url }, autoStart: false });
    const { user } = await comfyVast.users.createUser('ann');
    const created = await comfyVast.createServer(user.id, { name: 'priced', gpu: 'RTX 4090' });
    // Prices finer than a cent, so a cost reckoned from the rounded figures would show.
    expect(created.pricePerHour.toFixed(2)).not.toBe(String(created.pricePerHour));
    expect(created.storagePerHour.toFixed(4)).not.toBe(String(created.storagePerHour));

    await clock.advance(31_000);
    await comfyVast.reconcile();
    expect(comfyVast.getServer(user.id, created.id).status).toBe('running');
    await clock.advance(10 * 3_600_000);
    const server = comfyVast.getServer(user.id, created.id);
    expect(server.costSoFar).toBeGreaterThan(9 * server.pricePerHour);
    expect(comfyVast.getBudget(user, user.id).spent).toBeCloseTo(server.costSoFar, 4);
  });
});
