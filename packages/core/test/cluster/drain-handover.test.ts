import { ComfyVast, ManualClock, type Redis, type Store } from '@comfy-vast/core';
import { startFakeComfy, type FakeVast } from '@comfy-vast/testkit';
import { describe, expect, it } from 'vitest';
import { postgresHarness } from '../store/helpers/postgres.js';
import { useClusterRig } from './helpers/cluster.js';

// A drain under way when the process running the scheduler ends goes on in the next one: the same process started
// again on its data directory, or another process taking the background lease over.

/** Long on the test's clock, so the lease outlives the big steps the clock takes here. */
const TTL_MS = 10 * 60_000;
const NO_SPACING = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };
/** Steps slow enough on real time that a generation of many steps is still running when the test is over. */
const LONG = { prompt: 'a long night', parameters: { steps: 10_000, width: 64, height: 64 } };

const postgres = postgresHarness();
const rig = useClusterRig();

function startVast(clock: ManualClock): Promise<FakeVast> {
  return rig.startVast({
    now: () => clock.now(),
    intervalsMs: NO_SPACING,
    startComfy: (o) => startFakeComfy({ token: o.token, port: o.port, models: {}, modelFiles: o.modelFiles, timing: { stepMs: 100 } }),
  });
}

/** Moves the shared clock in steps, letting real I/O (HTTP, the data directory, PostgreSQL, Redis) settle after each. */
async function run(clock: ManualClock, ms: number, stepMs = 60_000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runTo(clock: ManualClock, atIso: string): Promise<void> {
  await run(clock, Date.parse(atIso) - clock.now());
}

async function until(clock: ManualClock, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await run(clock, 1_000, 1_000);
  expect(check()).toBe(true);
}

/** Awaits a call that waits on the clock (the Vast client spaces its requests, the installation's key among them). */
async function moving<T>(clock: ManualClock, call: Promise<T>): Promise<T> {
  let done = false;
  const result = call.finally(() => (done = true));
  await until(clock, () => done);
  return result;
}

async function open(clock: ManualClock, options: { dataDir?: string; store?: Store; redis?: Redis }): Promise<ComfyVast> {
  return rig.track(await ComfyVast.open({ clock, ...options, vast: { apiKey: rig.vast.apiKey, baseUrl: rig.vast.url, pollIntervalMs: 60_000 }, leaseTtlMs: TTL_MS }));
}

const close = (facade: ComfyVast): Promise<void> => rig.close(facade);

/** A running server with a generation executing on it, stopped by schedule at 18:00 New York time. */
async function busyServer(clock: ManualClock, facade: ComfyVast, userId: number, name: string): Promise<{ serverId: number; generationId: number }> {
  const { id: serverId } = await moving(clock, facade.createServer(userId, { name, gpu: 'RTX 4090' }));
  await until(clock, () => facade.getServer(userId, serverId).status === 'running' && facade.getServer(userId, serverId).isLaunched);
  await facade.updateSchedule(userId, serverId, 'stop', { schedule: { autoStop: true, stopTime: '18:00', timezone: 'America/New_York', weekdays: [1, 2, 3, 4, 5] } });
  const { generationId } = await facade.generate(userId, serverId, LONG);
  await until(clock, () => facade.getProgress(userId, generationId).status === 'executing');
  return { serverId, generationId };
}

/** What the scheduler did to a server, oldest first, to the minute. */
const history = (facade: ComfyVast, userId: number, serverId: number) =>
  facade
    .scheduleHistory(userId, serverId, { limit: 100 })
    .items.map((h) => `${h.event} ${h.at.slice(0, 16)}`)
    .reverse();

/** The deadline a refused generation names: the drain is there, and when it cuts. */
async function stopsBy(facade: ComfyVast, userId: number, serverId: number): Promise<unknown> {
  const refused = await facade.generate(userId, serverId, LONG).then(
    () => null,
    (error: { code: string; details: { stopsBy?: string } }) => error,
  );
  expect(refused).toMatchObject({ code: 'SERVER_NOT_RUNNING', details: { draining: true } });
  return refused!.details.stopsBy;
}

describe('a drain under way when the scheduler’s process ends', () => {
  it('goes on after a restart on the same data directory: stops when the work ends, cuts at its first deadline', async () => {
    // Monday 2 March 2026, 17:30 in New York.
    const clock = new ManualClock(Date.parse('2026-03-02T22:30:00Z'));
    await startVast(clock);
    const dataDir = await rig.dataDir('comfy-vast-drain-');
    const first = await open(clock, { dataDir });
    const { user } = await first.users.createUser('ann');
    const finishing = await busyServer(clock, first, user.id, 'finishing');
    const cut = await busyServer(clock, first, user.id, 'cut');
    await runTo(clock, '2026-03-02T23:01:00Z');
    expect(history(first, user.id, cut.serverId)).toEqual(['draining 2026-03-02T23:00']);
    // Due on the dot; begun once the steps of the clock reached it. The grace period is 30 minutes.
    const deadline = (serverId: number) => Date.parse(first.scheduleHistory(user.id, serverId).items[0]!.at) + 30 * 60_000;
    const deadlines = new Map([finishing, cut].map(({ serverId }) => [serverId, deadline(serverId)]));
    expect(await stopsBy(first, user.id, cut.serverId)).toBe(new Date(deadlines.get(cut.serverId)!).toISOString());

    await close(first);
    // Back 20 minutes later: a drain begun anew would cut 30 minutes from now.
    await run(clock, 20 * 60_000);
    const second = await open(clock, { dataDir });
    for (const { serverId } of [finishing, cut]) expect(await stopsBy(second, user.id, serverId)).toBe(new Date(deadlines.get(serverId)!).toISOString());

    await second.cancelGeneration(user.id, finishing.generationId);
    await until(clock, () => second.getServer(user.id, finishing.serverId).status === 'stopped');
    expect(history(second, user.id, finishing.serverId).map((e) => e.split(' ')[0])).toEqual(['draining', 'stopped']);
    expect(second.scheduleHistory(user.id, finishing.serverId).items[0]!.reason).toBe('scheduled stop at 18:00 America/New_York; work finished');

    // Cut at the deadline set before the restart, not 30 minutes after the restart.
    await runTo(clock, '2026-03-03T00:00:00Z');
    const [stopped, draining] = second.scheduleHistory(user.id, cut.serverId).items;
    expect([stopped!.event, draining!.event]).toEqual(['stopped', 'draining']);
    expect(stopped).toMatchObject({ cut: { running: 1 }, reason: 'scheduled stop at 18:00 America/New_York; grace period over, cutting 1 running generation' });
    expect(Date.parse(stopped!.at) - deadlines.get(cut.serverId)!).toBeGreaterThanOrEqual(0);
    // Recorded once Vast answered the stop, a few steps of the clock after it was asked.
    expect(Date.parse(stopped!.at) - deadlines.get(cut.serverId)!).toBeLessThan(5 * 60_000);
    await until(clock, () => second.getServer(user.id, cut.serverId).status === 'stopped');
  }, 120_000);

  it('goes on in the process that takes the background lease over, and ends once', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T22:30:00Z'));
    await startVast(clock);
    const schema = postgres.schema();
    const replica = async () => {
      return open(clock, { store: await postgres.open({ schema, clock }), redis: await rig.redis() });
    };
    const a = await replica();
    const b = await replica();
    expect([a.background().holder, b.background().holder]).toEqual([true, false]);
    const { user } = await a.users.createUser('ann');
    const { serverId, generationId } = await busyServer(clock, a, user.id, 'office');
    await runTo(clock, '2026-03-02T23:01:00Z');
    expect(history(a, user.id, serverId)).toEqual(['draining 2026-03-02T23:00']);
    await until(clock, () => history(b, user.id, serverId).length === 1);
    // The process that does not run the scheduler refuses new work on the draining server as the holder does.
    expect(b.background().holder).toBe(false);
    expect(await stopsBy(b, user.id, serverId)).toBe('2026-03-02T23:30:00.000Z');
    expect(b.listServers(user.id).find((s) => s.id === serverId)).toMatchObject({ idleStopAt: null });

    // The holder closes: its lease goes to the other process, which takes the drain up with its deadline.
    await close(a);
    await until(clock, () => b.background().holder);
    expect(await stopsBy(b, user.id, serverId)).toBe('2026-03-02T23:30:00.000Z');
    await b.cancelGeneration(user.id, generationId);
    await until(clock, () => b.getServer(user.id, serverId).status === 'stopped');
    await run(clock, 60 * 60_000);
    const entries = history(b, user.id, serverId);
    expect(entries.map((e) => e.split(' ')[0])).toEqual(['draining', 'stopped']);
    expect(b.scheduleHistory(user.id, serverId).items[0]!.reason).toBe('scheduled stop at 18:00 America/New_York; work finished');
  }, 120_000);
});
