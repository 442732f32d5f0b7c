import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../../src/scheduler/time-zone.js';
import { iso, rig } from './setup.js';

const WEEKDAYS = [1, 2, 3, 4, 5];

describe('SchedulerRunner over a simulated week', () => {
  it('starts and stops each server exactly on time, across the US spring change, with one timer', async () => {
    // Thursday 5 March 2026, 19:00 in New York; the US clocks go forward on Sunday 8 March.
    const r = rig('2026-03-06T00:00Z');
    r.target.add({ id: 1 });
    r.target.add({ id: 2 });
    r.target.add({ id: 3 });
    await r.schedule(1, { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
    await r.schedule(2, { autoStart: true, startTime: '22:00', timezone: 'Europe/Berlin', weekdays: [6] }, { autoStop: true, stopTime: '06:00' });
    await r.schedule(3, { autoStart: true, startTime: '08:00', timezone: 'Asia/Kolkata', weekdays: [1, 2, 3, 4, 5, 6, 7] }, {});
    await r.runner.start();

    for (let hour = 0; hour < 7 * 24; hour++) {
      await r.clock.advance(HOUR_MS);
      expect(r.clock.pendingTimers).toBe(1);
    }

    const callsOf = (id: number) => r.target.calls.filter((c) => c.serverId === id).map((c) => `${c.action} ${iso(c.at)}`);
    expect(callsOf(1)).toEqual([
      'start 2026-03-06T14:00Z', 'stop 2026-03-06T23:00Z',
      'start 2026-03-09T13:00Z', 'stop 2026-03-09T22:00Z',
      'start 2026-03-10T13:00Z', 'stop 2026-03-10T22:00Z',
      'start 2026-03-11T13:00Z', 'stop 2026-03-11T22:00Z',
      'start 2026-03-12T13:00Z', 'stop 2026-03-12T22:00Z',
    ]);
    expect(callsOf(2)).toEqual(['start 2026-03-07T21:00Z', 'stop 2026-03-08T05:00Z']);
    // Already running on later mornings: one start only, and no stop side.
    expect(callsOf(3)).toEqual(['start 2026-03-06T02:30Z']);

    const history = r.runner.history.list(1, { limit: 100 }).items;
    expect(history).toHaveLength(10);
    expect(history.at(-1)).toMatchObject({ event: 'started', trigger: 'schedule', reason: 'scheduled start at 09:00 America/New_York' });
    expect(history[0]).toMatchObject({ event: 'stopped', trigger: 'schedule', reason: 'scheduled stop at 18:00 America/New_York; no work in progress' });
  });

  it('moves the one timer when a schedule or a server changes', async () => {
    const r = rig('2026-06-01T12:00Z');
    r.target.add({ id: 1 });
    r.target.add({ id: 2 });
    await r.runner.start();
    expect(r.runner.nextWakeAt).toBeNull();

    await r.schedule(1, { autoStart: true, startTime: '20:00', timezone: 'UTC', weekdays: [1] }, {});
    expect(iso(r.runner.nextWakeAt!)).toBe('2026-06-01T20:00Z');
    await r.schedule(2, { autoStart: true, startTime: '15:30', timezone: 'UTC', weekdays: [1] }, {});
    expect(iso(r.runner.nextWakeAt!)).toBe('2026-06-01T15:30Z');
    expect(r.clock.pendingTimers).toBe(1);

    await r.schedules.remove(2);
    expect(iso(r.runner.nextWakeAt!)).toBe('2026-06-01T20:00Z');
    expect(r.clock.pendingTimers).toBe(1);
  });

  it('catches up after the wall clock jumps past a stop', async () => {
    const r = rig('2026-06-01T14:00Z');
    r.target.add({ id: 1, status: 'running' });
    await r.schedule(1, { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
    await r.runner.start();
    expect(r.target.calls).toEqual([]);

    // Suspended from Monday 10:00 to Monday 19:30 New York time: the 18:00 stop was missed.
    r.clock.jump(9.5 * HOUR_MS);
    await r.clock.advance(0);

    expect(r.target.calls.map((c) => [c.action, iso(c.at), c.reason.trigger])).toEqual([['stop', '2026-06-01T23:30Z', 'catch-up']]);
    expect(r.runner.history.list(1).items[0]?.reason).toMatch(/^catching up at 2026-06-01T23:30:00.000Z: outside the 09:00-18:00 America\/New_York window/);
    expect(iso(r.runner.nextWakeAt!)).toBe('2026-06-02T13:00Z');
  });
});

describe('provider refusals', () => {
  it('records a refused start as failed and still acts on the other servers due at the same instant', async () => {
    const r = rig('2026-06-01T08:00Z');
    r.target.add({ id: 1 });
    r.target.add({ id: 2 });
    r.target.refusing.add(1);
    for (const id of [1, 2]) await r.schedule(id, { autoStart: true, startTime: '09:00', timezone: 'UTC', weekdays: [1] }, {});
    await r.runner.start();

    await r.clock.advance(HOUR_MS);

    expect(r.target.calls.map((c) => `${c.action} ${c.serverId} ${iso(c.at)}`)).toEqual(['start 1 2026-06-01T09:00Z', 'start 2 2026-06-01T09:00Z']);
    expect(r.target.getServer(2)?.status).toBe('running');
    expect(r.runner.history.list(1).items[0]).toMatchObject({ event: 'failed', reason: 'scheduled start at 09:00 UTC; start failed: no GPU available on the host' });
    expect(iso(r.runner.nextWakeAt!)).toBe('2026-06-08T09:00Z');
  });

  it('retries a refused idle stop after the retry delay, not in a loop', async () => {
    const r = rig('2026-06-01T10:00Z', { retryMs: 10 * MINUTE_MS });
    r.target.add({ id: 1, status: 'running' });
    r.target.refusing.add(1);
    await r.schedule(1, {}, { idleStopMinutes: 30 });
    await r.runner.start();

    await r.clock.advance(45 * MINUTE_MS);
    r.target.refusing.delete(1);
    await r.clock.advance(HOUR_MS);

    expect(r.target.calls.map((c) => `${c.action} ${iso(c.at)}`)).toEqual(['stop 2026-06-01T10:30Z', 'stop 2026-06-01T10:40Z', 'stop 2026-06-01T10:50Z']);
    expect(r.runner.history.list(1).items.map((h) => h.event)).toEqual(['stopped', 'failed', 'failed']);
  });
});

describe('restart catch-up', () => {
  it('starts a stopped server inside its window and stops a running one outside, each with its reason', async () => {
    const r = rig('2026-06-02T15:00Z');
    r.target.add({ id: 1, status: 'stopped' });
    r.target.add({ id: 2, status: 'running' });
    await r.schedule(1, { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
    await r.schedule(2, { autoStart: true, startTime: '09:00', timezone: 'Asia/Kolkata', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
    // The process last ran on Monday evening in New York.
    await r.store.setValue('scheduler.checkpoint', Date.parse('2026-06-01T23:00Z'));

    await r.runner.start();

    expect(r.target.calls.map((c) => `${c.action} ${c.serverId} ${c.reason.trigger}`)).toEqual(['start 1 catch-up', 'stop 2 catch-up']);
    expect(r.runner.history.list(1).items[0]).toMatchObject({ event: 'started', trigger: 'catch-up' });
    expect(r.runner.history.list(1).items[0]?.reason).toContain('inside the 09:00-18:00 America/New_York window');
    expect(r.runner.history.list(2).items[0]).toMatchObject({ event: 'stopped', trigger: 'catch-up' });
  });

  it('leaves a server alone when nothing was due while the process was down', async () => {
    const r = rig('2026-06-02T02:00Z');
    r.target.add({ id: 1, status: 'running' });
    await r.schedule(1, { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
    // Started by hand at 21:00 after Monday's 18:00 stop; the process restarts at 22:00.
    await r.store.setValue('scheduler.checkpoint', Date.parse('2026-06-02T01:00Z'));

    await r.runner.start();

    expect(r.target.calls).toEqual([]);
  });
});

describe('drain before stop', () => {
  it('waits for a long generation, says why, and stops once it ends', async () => {
    const r = rig('2026-06-01T21:50Z');
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { running: 1, queued: 2 });
    await r.schedule(1, { autoStart: false, timezone: 'America/New_York', weekdays: WEEKDAYS }, { autoStop: true, stopTime: '18:00' });
    await r.runner.start();
    const actions: string[] = [];
    r.runner.on('scheduler:action', (record) => actions.push(record.event));

    await r.clock.advanceTo(Date.parse('2026-06-01T22:00Z'));
    expect(r.target.calls).toEqual([]);
    expect(r.runner.isDraining(1)).toBe(true);
    expect(() => r.runner.assertAcceptingWork(1)).toThrow(expect.objectContaining({ code: 'SERVER_NOT_RUNNING' }));
    expect(r.runner.history.list(1).items[0]).toMatchObject({
      event: 'draining',
      trigger: 'schedule',
      reason: 'scheduled stop at 18:00 America/New_York; waiting for 1 running generation, 2 queued generations (at most 30 min)',
    });

    await r.clock.advance(12 * MINUTE_MS);
    r.target.setActivity(1, { running: 0, queued: 0 });
    await r.runner.activityChanged(1);

    expect(r.target.calls.map((c) => `${c.action} ${iso(c.at)}`)).toEqual(['stop 2026-06-01T22:12Z']);
    expect(r.runner.isDraining(1)).toBe(false);
    expect(() => r.runner.assertAcceptingWork(1)).not.toThrow();
    expect(r.runner.history.list(1).items[0]).toMatchObject({ event: 'stopped', reason: 'scheduled stop at 18:00 America/New_York; work finished' });
    expect(actions).toEqual(['draining', 'stopped']);
  });

  it('notices the end of work on its own within a drain check', async () => {
    const r = rig('2026-06-01T21:59Z', { drainCheckMs: 5 * MINUTE_MS });
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { downloads: 1 });
    await r.schedule(1, { timezone: 'UTC', weekdays: [1] }, { autoStop: true, stopTime: '22:00' });
    await r.runner.start();

    await r.clock.advance(3 * MINUTE_MS);
    r.target.setActivity(1, { downloads: 0 });
    await r.clock.advance(10 * MINUTE_MS);

    expect(r.target.calls.map((c) => iso(c.at))).toEqual(['2026-06-01T22:05Z']);
  });

  it('cuts the work after the grace period and records what was cut', async () => {
    const r = rig('2026-06-01T21:00Z', { drainGraceMs: 20 * MINUTE_MS });
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { running: 1, setup: true });
    await r.schedule(1, { timezone: 'UTC', weekdays: [1] }, { autoStop: true, stopTime: '22:00' });
    await r.runner.start();

    await r.clock.advanceTo(Date.parse('2026-06-01T23:00Z'));

    expect(r.target.calls.map((c) => `${c.action} ${iso(c.at)}`)).toEqual(['stop 2026-06-01T22:20Z']);
    expect(r.runner.history.list(1).items[0]).toMatchObject({
      event: 'stopped',
      reason: 'scheduled stop at 22:00 UTC; grace period over, cutting 1 running generation, a setup',
      cut: { queued: 0, running: 1, setup: true, downloads: 0 },
    });
  });

  it('keeps the server running when its next window opens during the drain', async () => {
    const r = rig('2026-06-01T08:50Z');
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { running: 1 });
    await r.schedule(1, { autoStart: true, startTime: '09:10', timezone: 'UTC', weekdays: [1] }, { autoStop: true, stopTime: '09:00' });
    await r.runner.start();

    await r.clock.advanceTo(Date.parse('2026-06-01T09:30Z'));

    expect(r.target.calls).toEqual([]);
    expect(r.runner.isDraining(1)).toBe(false);
    expect(r.runner.history.list(1).items.map((h) => h.event)).toEqual(['drain-cancelled', 'draining']);
  });
});

describe('idle stop', () => {
  it('stops a running server after idleStopMinutes without use and says when beforehand', async () => {
    const r = rig('2026-06-01T10:00Z');
    r.target.add({ id: 1, status: 'running' });
    await r.schedule(1, {}, { idleStopMinutes: 30 });
    await r.runner.start();
    expect(iso(r.runner.idleStopAt(1)!)).toBe('2026-06-01T10:30Z');

    await r.clock.advance(20 * MINUTE_MS);
    r.target.setActivity(1, { lastActivityAt: r.clock.now() });
    await r.runner.activityChanged(1);
    expect(iso(r.runner.idleStopAt(1)!)).toBe('2026-06-01T10:50Z');

    await r.clock.advance(HOUR_MS);
    expect(r.target.calls.map((c) => `${c.action} ${iso(c.at)} ${c.reason.trigger}`)).toEqual(['stop 2026-06-01T10:50Z idle']);
    expect(r.runner.history.list(1).items[0]).toMatchObject({ event: 'stopped', trigger: 'idle', reason: 'idle for 30 min; no work in progress' });
    expect(r.runner.idleStopAt(1)).toBeNull();
  });

  it('stops at once a server that went idle long before the process started', async () => {
    const r = rig('2026-06-01T10:00Z');
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { lastActivityAt: Date.parse('2026-06-01T07:00Z') });
    await r.schedule(1, {}, { idleStopMinutes: 30 });
    await r.runner.start();

    await r.clock.advance(0);

    expect(r.target.calls.map((c) => `${c.action} ${iso(c.at)} ${c.reason.trigger}`)).toEqual(['stop 2026-06-01T10:00Z idle']);
    expect(r.runner.nextWakeAt).toBeNull();
  });

  it('does not stop a server a client is watching, and stops it once it is left alone', async () => {
    const r = rig('2026-06-01T10:00Z');
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { subscribers: 1 });
    await r.schedule(1, {}, { idleStopMinutes: 15 });
    await r.runner.start();
    expect(r.runner.idleStopAt(1)).toBeNull();

    await r.clock.advance(40 * MINUTE_MS);
    expect(r.target.calls).toEqual([]);

    // The client left at 10:40 without anyone telling the runner; it notices at its next look (10:45).
    r.target.setActivity(1, { subscribers: 0, lastActivityAt: r.clock.now() });
    await r.clock.advance(HOUR_MS);
    expect(r.target.calls.map((c) => iso(c.at))).toEqual(['2026-06-01T10:55Z']);
  });
});
