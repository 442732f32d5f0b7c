import { ComfyVast, ManualClock, MemoryStore, openRedis, silentLogger, type Redis, type Store } from '@comfy-vast/core';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresHarness } from '../store/helpers/postgres.js';
import { usePrivateRedis } from '../store/helpers/use-redis.js';

const USER = 1;
/** Long on the test's clock, so hours of schedule pass in big steps; Redis's expiry is stood in for where it matters. */
const TTL_MS = 60 * 60_000;
const RENEW_DEADLINE_MS = TTL_MS * 0.8;
const RETRY_MS = TTL_MS / 10;
const KEY = 'comfy-vast:lease:background';

const postgres = postgresHarness();
const redisServer = usePrivateRedis();
let vast: FakeVast | undefined;
const clients: Redis[] = [];
const facades: ComfyVast[] = [];

afterEach(async () => {
  for (const f of facades.splice(0).reverse()) await f.close();
  for (const c of clients.splice(0)) c.disconnect();
  await vast?.close();
  await redisServer.admin.flushall();
});

async function client(): Promise<Redis> {
  const redis = await openRedis({ url: redisServer.server.url, logger: silentLogger });
  clients.push(redis);
  return redis;
}

/** Moves the shared clock in steps, letting real I/O (the fake's HTTP answers, Redis's answers) settle after each. */
async function run(clock: ManualClock, ms: number, stepMs = 60_000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function until(clock: ManualClock, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await run(clock, 1_000, 1_000);
  expect(check()).toBe(true);
}

/** An API process on the given records (each process its own store) and Redis. */
async function openReplica(clock: ManualClock, store: Store, redis: Redis): Promise<{ facade: ComfyVast }> {
  const facade = await ComfyVast.open({ clock, store, vast: { apiKey: vast!.apiKey, baseUrl: vast!.url, pollIntervalMs: 60_000 }, redis, leaseTtlMs: TTL_MS });
  facades.push(facade);
  return { facade };
}

/** What the scheduler did to a server, oldest first, as every process reads it (to the hour: the entry is dated when Vast accepted the call). */
const actions = (facade: ComfyVast, serverId: number) =>
  facade
    .scheduleHistory(USER, serverId, { limit: 100 })
    .items.filter((h) => h.trigger === 'schedule')
    .map((h) => `${h.event} ${h.at.slice(0, 13)}`)
    .reverse();

describe('background work among several processes sharing Redis', () => {
  it('fires each scheduled action once, in the lease holder, and moves to the other process when the holder is cut off', async () => {
    // Monday 2 March 2026, 07:00 in New York.
    const clock = new ManualClock(Date.parse('2026-03-02T12:00:00Z'));
    vast = await startFakeVast({ now: () => clock.now(), intervalsMs: { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 } });
    // Two processes on one PostgreSQL schema, each with its own store, and one Redis.
    const schema = postgres.schema();
    const redisA = await client();
    const a = await openReplica(clock, await postgres.open({ schema, clock }), redisA);
    const b = await openReplica(clock, await postgres.open({ schema, clock }), await client());
    expect(a.facade.background()).toEqual({ holder: true, known: true, fence: 1 });
    expect(b.facade.background()).toEqual({ holder: false, known: true, fence: null });

    const created = await a.facade.createServer(USER, { name: 'office', gpu: 'RTX 4090' });
    // Until the other process has heard of the last write (the launch the holder's reconciler saw): its own write
    // on an older version would be refused with CONFLICT.
    const same = () => JSON.stringify(b.facade.listServers(USER)) === JSON.stringify(a.facade.listServers(USER));
    await until(clock, () => a.facade.getServer(USER, created.id).isLaunched && same());
    // Asked of the process that does not run the scheduler: the one that does replans from what the store hears.
    await b.facade.stopServer(USER, created.id);
    await until(clock, () => a.facade.getServer(USER, created.id).status === 'stopped');
    await b.facade.updateSchedule(USER, created.id, 'start', { schedule: { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: [1, 2, 3, 4, 5] } });
    await b.facade.updateSchedule(USER, created.id, 'stop', { schedule: { autoStop: true, stopTime: '18:00' } });
    await until(clock, () => a.facade.nextWakeAt === Date.parse('2026-03-02T14:00:00Z'));
    expect(b.facade.nextWakeAt).toBeNull();
    const manageCalls = () => vast!.calls().filter((c) => c.method === 'PUT' && c.path.startsWith('/api/v0/instances/')).length;
    const before = manageCalls();

    // 09:00 in New York: one start, by the holder.
    await run(clock, Date.parse('2026-03-02T14:05:00Z') - clock.now());
    expect(manageCalls() - before).toBe(1);
    expect(actions(a.facade, created.id)).toEqual(['started 2026-03-02T14']);
    await until(clock, () => actions(b.facade, created.id).length === 1);
    await until(clock, () => a.facade.getServer(USER, created.id).status === 'running');

    // The holder loses Redis (a partition, or a process that hangs): it keeps running but can no longer renew.
    redisA.disconnect();
    const cutAt = clock.now();
    await run(clock, RENEW_DEADLINE_MS + 60_000);
    // Past its deadline the holder has stopped, while Redis still keeps the lease from the other process.
    expect(a.facade.background().holder).toBe(false);
    expect(b.facade.background().holder).toBe(false);
    expect(await redisServer.admin.exists(KEY)).toBe(1);
    // Redis counts the ttl on real time, which this test's clock outruns: its expiry is brought to the moment the
    // test's clock reaches the ttl since the holder's last renewal (at most the instant it was cut off).
    await run(clock, cutAt + TTL_MS - clock.now());
    await redisServer.admin.pexpire(KEY, 1);
    await new Promise((r) => setTimeout(r, 5));
    await run(clock, RETRY_MS);
    expect(b.facade.background()).toEqual({ holder: true, known: true, fence: 2 });
    expect(clock.now() - cutAt).toBeLessThanOrEqual(TTL_MS + RETRY_MS);

    // 18:00 in New York: one stop, by the new holder.
    await run(clock, Date.parse('2026-03-02T23:05:00Z') - clock.now());
    expect(manageCalls() - before).toBe(2);
    expect(actions(b.facade, created.id)).toEqual(['started 2026-03-02T14', 'stopped 2026-03-02T23']);
    expect(b.facade.nextWakeAt).toBe(Date.parse('2026-03-03T14:00:00Z'));
    expect(a.facade.nextWakeAt).toBeNull();
    await until(clock, () => a.facade.getServer(USER, created.id).status === 'stopped');
  }, 120_000);

  it('stops a server for a budget set on the process that does not run the checks, once, from the one that does', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T12:00:00Z'));
    vast = await startFakeVast({ now: () => clock.now(), intervalsMs: { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 } });
    const schema = postgres.schema();
    const a = await openReplica(clock, await postgres.open({ schema, clock }), await client());
    const b = await openReplica(clock, await postgres.open({ schema, clock }), await client());
    const { user } = await a.facade.users.createUser('ann');
    const created = await a.facade.createServer(user.id, { name: 'office', gpu: 'RTX 4090' });
    await until(clock, () => a.facade.getServer(user.id, created.id).status === 'running');
    await run(clock, 2 * 3_600_000);
    const manageCalls = () => vast!.calls().filter((c) => c.method === 'PUT' && c.path.startsWith('/api/v0/instances/')).length;
    const before = manageCalls();

    // Both processes count what the server cost, whichever of them recorded its status changes.
    const spent = (f: ComfyVast) => f.getBudget(user, user.id).spent;
    expect(spent(a.facade)).toBeGreaterThan(0);
    expect(spent(b.facade)).toBe(spent(a.facade));
    await b.facade.setBudget(user.id, 0.01);
    await until(clock, () => a.facade.getServer(user.id, created.id).status === 'stopped');
    expect(manageCalls() - before).toBe(1);
    const history = a.facade.scheduleHistory(user.id, created.id).items.map((h) => `${h.event} ${h.trigger}`);
    expect(history).toEqual(['stopped budget']);
  }, 120_000);

  it('hands the lease over at once when its holder closes, and runs everything in one process without Redis', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T12:00:00Z'));
    vast = await startFakeVast({ now: () => clock.now() });
    const a = await openReplica(clock, new MemoryStore(), await client());
    const b = await openReplica(clock, new MemoryStore(), await client());
    expect([a.facade.background().holder, b.facade.background().holder]).toEqual([true, false]);
    await a.facade.close();
    facades.splice(facades.indexOf(a.facade), 1);
    expect(await redisServer.admin.exists(KEY)).toBe(0);
    await run(clock, RETRY_MS, RETRY_MS);
    expect(b.facade.background()).toEqual({ holder: true, known: true, fence: 2 });

    const alone = await ComfyVast.open({ clock });
    facades.push(alone);
    expect(alone.background()).toEqual({ holder: true, known: true, fence: null });
  });
});
