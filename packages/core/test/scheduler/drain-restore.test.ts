import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LowdbStore, ManualClock } from '../../src/index.js';
import { MINUTE_MS } from '../../src/scheduler/time-zone.js';
import { iso, rig, type Rig } from './setup.js';

// A drain outlives the runner that began it: the next one (this process restarted, or another holding the background
// lease) takes it up from the stored history with its own reason and deadline.

const WEEKDAYS = [1, 2, 3, 4, 5];
const dirs: string[] = [];
const stores: LowdbStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function openStore(dir: string, clock: ManualClock): Promise<LowdbStore> {
  const store = await LowdbStore.open({ dir, clock });
  stores.push(store);
  return store;
}

/** A runner on a data directory with server 1 running a generation, 18:00 New York its scheduled stop. */
async function firstRunner(startIso: string): Promise<{ r: Rig; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-drain-'));
  dirs.push(dir);
  const clock = new ManualClock(Date.parse(startIso));
  const r = rig(startIso, { clock, store: await openStore(dir, clock) });
  r.target.add({ id: 1, status: 'running' });
  r.target.setActivity(1, { running: 1 });
  await r.schedule(1, { autoStart: false, timezone: 'America/New_York', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
  await r.runner.start();
  return { r, dir };
}

/** The process ends (its store closed) and a new one opens the same data directory at `atIso`, the server as it was. */
async function restart(first: Rig, dir: string, atIso: string, options: { drainGraceMs?: number; running?: number; status?: string } = {}): Promise<Rig> {
  first.runner.close();
  await stores.splice(stores.indexOf(first.store as LowdbStore), 1)[0]!.close();
  const clock = new ManualClock(Date.parse(atIso));
  const r = rig(atIso, { clock, store: await openStore(dir, clock), drainGraceMs: options.drainGraceMs });
  r.target.add({ id: 1, status: options.status ?? 'running' });
  r.target.setActivity(1, { running: options.running ?? 1 });
  await r.runner.start();
  return r;
}

/**
 * Moves the clock a minute at a time; after each step the data directory's writes (real I/O) end, and what waited
 * for them runs, before the clock moves on. A fixed pause instead let a loaded machine's slow fsync see the next
 * minute.
 */
async function runTo(r: Rig, atIso: string): Promise<void> {
  const to = Date.parse(atIso);
  do {
    await r.clock.advanceTo(Math.min(to, r.clock.now() + MINUTE_MS));
    await settle(r.store as LowdbStore);
  } while (r.clock.now() < to);
}

/** Until the store has no write in flight; each round lets what a write was awaited for run, which may write again. */
async function settle(store: LowdbStore): Promise<void> {
  for (let round = 0; round < 4; round++) {
    await store.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const events = (r: Rig) => r.runner.history.list(1, { limit: 100 }).items.map((h) => `${h.event} ${h.at}`);
const calls = (r: Rig) => r.target.calls.map((c) => `${c.action} ${iso(c.at)}`);

describe('a drain under way when the runner stops', () => {
  it('is taken up after a restart with its first deadline, refuses work meanwhile, and cuts at that deadline', async () => {
    const { r: first, dir } = await firstRunner('2026-06-01T21:50Z');
    await runTo(first, '2026-06-01T22:00Z');
    expect(first.runner.isDraining(1)).toBe(true);

    // A grace period configured differently now does not move a deadline already announced.
    const r = await restart(first, dir, '2026-06-01T22:10Z', { drainGraceMs: 60 * MINUTE_MS });
    expect(r.runner.isDraining(1)).toBe(true);
    expect(() => r.runner.assertAcceptingWork(1)).toThrow(
      expect.objectContaining({ code: 'SERVER_NOT_RUNNING', details: { serverId: 1, draining: true, stopsBy: '2026-06-01T22:30:00.000Z' } }),
    );
    expect(r.runner.idleStopAt(1)).toBeNull();

    await runTo(r, '2026-06-01T23:30Z');
    expect(calls(r)).toEqual(['stop 2026-06-01T22:30Z']);
    expect(r.runner.isDraining(1)).toBe(false);
    // One `draining` entry, the one written before the restart; the stop repeats the schedule's own reason.
    expect(events(r)).toEqual(['stopped 2026-06-01T22:30:00.000Z', 'draining 2026-06-01T22:00:00.000Z']);
    expect(r.runner.history.list(1).items[0]).toMatchObject({
      trigger: 'schedule',
      reason: 'scheduled stop at 18:00 America/New_York; grace period over, cutting 1 running generation',
      cut: { queued: 0, running: 1, setup: false, downloads: 0 },
    });
  });

  it('stops the server once the work ends after the restart, and shows no stored drain in the history', async () => {
    const { r: first, dir } = await firstRunner('2026-06-01T21:50Z');
    await runTo(first, '2026-06-01T22:00Z');
    const r = await restart(first, dir, '2026-06-01T22:05Z');

    await runTo(r, '2026-06-01T22:07Z');
    expect(calls(r)).toEqual([]);
    r.target.setActivity(1, { running: 0 });
    await r.runner.activityChanged(1);

    expect(calls(r)).toEqual(['stop 2026-06-01T22:07Z']);
    const [stopped, draining] = r.runner.history.list(1).items;
    expect(stopped).toMatchObject({ event: 'stopped', reason: 'scheduled stop at 18:00 America/New_York; work finished' });
    expect(Object.keys(draining!).sort()).toEqual(['at', 'event', 'id', 'reason', 'serverId', 'trigger', 'userId']);
  });

  it('cuts at once when the deadline passed while no runner was there', async () => {
    const { r: first, dir } = await firstRunner('2026-06-01T21:50Z');
    await runTo(first, '2026-06-01T22:00Z');
    const r = await restart(first, dir, '2026-06-01T23:15Z');

    await runTo(r, '2026-06-01T23:15Z');
    expect(calls(r)).toEqual(['stop 2026-06-01T23:15Z']);
    expect(r.runner.history.list(1).items[0]).toMatchObject({ event: 'stopped', cut: { running: 1 } });
  });

  it('is not taken up for a server that stopped meanwhile, nor after it was stopped and started by other means', async () => {
    const { r: first, dir } = await firstRunner('2026-06-01T21:50Z');
    await runTo(first, '2026-06-01T22:00Z');
    const stopped = await restart(first, dir, '2026-06-01T22:05Z', { status: 'stopped', running: 0 });
    expect(stopped.runner.isDraining(1)).toBe(false);
    expect(stopped.runner.history.list(1).items[0]).toMatchObject({ event: 'drain-cancelled', at: '2026-06-01T22:05:00.000Z' });

    // Started by hand the next day, the server is not stopped for the old drain; drained again and stopped by hand,
    // the history says that drain is over too, so a start by hand is not undone either.
    const again = await restart(stopped, dir, '2026-06-02T21:55Z');
    expect(again.runner.isDraining(1)).toBe(false);
    await runTo(again, '2026-06-02T22:05Z');
    expect(again.runner.isDraining(1)).toBe(true);
    await again.target.stop(1, { trigger: 'schedule', message: 'by hand' });
    expect(again.runner.isDraining(1)).toBe(false);
    await runTo(again, '2026-06-02T22:06Z');
    expect(again.runner.history.list(1).items[0]).toMatchObject({
      event: 'drain-cancelled',
      trigger: 'schedule',
      reason: 'scheduled stop at 18:00 America/New_York; the server stopped otherwise, the pending stop is dropped',
    });

    const started = await restart(again, dir, '2026-06-02T22:20Z');
    expect(started.runner.isDraining(1)).toBe(false);
    await runTo(started, '2026-06-02T23:30Z');
    expect(calls(started)).toEqual([]);
  });
});
