import { ComfyVast, ManualClock } from '@comfy-vast/core';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const USER = 1;
let vast: FakeVast | undefined;
let comfyVast: ComfyVast | undefined;

afterEach(async () => {
  await comfyVast?.close();
  await vast?.close();
});

/** Moves the shared clock in steps, letting real I/O (the fake's HTTP answers) settle after each. */
async function run(clock: ManualClock, ms: number, stepMs: number): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function until(clock: ManualClock, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await run(clock, 1_000, 1_000);
  expect(check()).toBe(true);
}

describe('a scheduled week on the simulated provider', () => {
  it('starts and stops the server exactly on weekdays at 09:00 and 18:00 New York time, across the DST change', async () => {
    // Monday 2 March 2026, 07:00 in New York; the clocks go forward on Sunday 8 March.
    const clock = new ManualClock(Date.parse('2026-03-02T12:00:00Z'));
    vast = await startFakeVast({ now: () => clock.now(), intervalsMs: { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 } });
    comfyVast = await ComfyVast.open({ clock, vast: { apiKey: vast.apiKey, baseUrl: vast.url, pollIntervalMs: 60_000 } });

    const created = await comfyVast.createServer(USER, { name: 'office', gpu: 'RTX 4090' });
    await until(clock, () => comfyVast!.getServer(USER, created.id).status === 'running');
    await comfyVast.updateSchedule(USER, created.id, 'start', { schedule: { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: [1, 2, 3, 4, 5] } });
    await comfyVast.updateSchedule(USER, created.id, 'stop', { schedule: { autoStop: true, stopTime: '18:00' } });

    const manageCalls = () => vast!.calls().filter((c) => c.method === 'PUT' && c.path.startsWith('/api/v0/instances/')).length;
    const before = manageCalls();
    await run(clock, Date.parse('2026-03-09T12:00:00Z') - clock.now(), 60_000);

    const history = comfyVast.scheduleHistory(USER, created.id, { limit: 100 }).items.filter((h) => h.trigger === 'schedule').reverse();
    // Recorded when Vast accepted the call, within the minute of the planned instant.
    expect(history.map((h) => `${h.event} ${h.at.slice(0, 16)}`)).toEqual([
      'stopped 2026-03-02T23:00',
      'started 2026-03-03T14:00',
      'stopped 2026-03-03T23:00',
      'started 2026-03-04T14:00',
      'stopped 2026-03-04T23:00',
      'started 2026-03-05T14:00',
      'stopped 2026-03-05T23:00',
      'started 2026-03-06T14:00',
      'stopped 2026-03-06T23:00',
    ]);
    expect(manageCalls() - before).toBe(9);
    expect(comfyVast.getServer(USER, created.id).status).toBe('stopped');
    expect(comfyVast.nextWakeAt).toBe(Date.parse('2026-03-09T13:00:00Z'));
  }, 120_000);
});
