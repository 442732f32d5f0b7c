import { describe, expect, it } from 'vitest';
import { MemoryStore, ManualClock } from '../../src/index.js';
import { ScheduleService } from '../../src/scheduler/schedule-service.js';
import type { ServerInfo } from '../../src/scheduler/schedule-target.js';

const server: ServerInfo = { id: 1, name: 'GPU Server 1', status: 'running', userId: 7 };

function service(start = '2026-06-01T15:00Z') {
  const store = new MemoryStore();
  return { store, schedules: new ScheduleService({ store, clock: new ManualClock(Date.parse(start)) }) };
}

describe('ScheduleService', () => {
  it('answers the spec GET shape with nothing scheduled for a server without a schedule', () => {
    const { schedules } = service();
    expect(schedules.view(server)).toEqual({
      server: { id: 1, name: 'GPU Server 1', status: 'running' },
      schedule: { autoStart: false, autoStop: false, startTime: '09:00', stopTime: '18:00', timezone: 'UTC', weekdays: [1, 2, 3, 4, 5], idleStopMinutes: null },
      nextAction: null,
    });
  });

  it('merges the start side and the stop side and answers the new state with the next action', async () => {
    const { schedules } = service();
    const afterStart = await schedules.update(server, 'start', { schedule: { autoStart: true, startTime: '08:00', timezone: 'America/New_York' } });
    expect(afterStart.schedule).toMatchObject({ autoStart: true, startTime: '08:00', timezone: 'America/New_York', autoStop: false, stopTime: '18:00' });
    expect(afterStart.nextAction).toEqual({ action: 'start', scheduledTime: '2026-06-02T12:00:00Z' });

    const afterStop = await schedules.update(server, 'stop', { schedule: { autoStop: true, weekdays: [0, 6], idleStopMinutes: 45 } });
    expect(afterStop.schedule).toEqual({
      autoStart: true,
      autoStop: true,
      startTime: '08:00',
      stopTime: '18:00',
      timezone: 'America/New_York',
      weekdays: [6, 7],
      idleStopMinutes: 45,
    });
    expect(afterStop.nextAction).toEqual({ action: 'start', scheduledTime: '2026-06-06T12:00:00Z' });
  });

  it('ignores the other side’s fields in a body and keeps the schedule across a new service on the same store', async () => {
    const { store, schedules } = service();
    await schedules.update(server, 'start', { schedule: { startTime: '07:15', stopTime: '23:00' } });
    const reopened = new ScheduleService({ store, clock: new ManualClock(0) });
    expect(reopened.get(1)).toMatchObject({ startTime: '07:15', stopTime: '18:00' });
    expect(reopened.entries()).toEqual([{ serverId: 1, userId: 7, schedule: reopened.get(1) }]);
  });

  it.each([
    ['start', { schedule: { startTime: '9:00' } }, 'schedule.startTime', 'must be a 24-hour time HH:MM'],
    ['start', { schedule: { startTime: '24:00' } }, 'schedule.startTime', 'must be a 24-hour time HH:MM'],
    ['stop', { schedule: { stopTime: '18:60' } }, 'schedule.stopTime', 'must be a 24-hour time HH:MM'],
    ['start', { schedule: { timezone: 'Mars/Olympus' } }, 'schedule.timezone', 'must be an IANA time zone'],
    ['stop', { schedule: { weekdays: [1, 8] } }, 'schedule.weekdays.1', 'must be a weekday number from 1 (Monday) to 7 (Sunday)'],
    ['start', { schedule: { autoStart: 'yes' } }, 'schedule.autoStart', 'must be true or false'],
    ['stop', { schedule: { idleStopMinutes: 0 } }, 'schedule.idleStopMinutes', 'must be at least 1 minute'],
    ['stop', {}, 'schedule', 'must be an object of schedule fields'],
  ] as const)('refuses a %s body %j with VALIDATION_ERROR naming %s', async (side, body, field, message) => {
    const { schedules } = service();
    const error = await schedules.update(server, side, body).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { field } });
    expect((error as Error).message).toContain(`${field} ${message}`);
  });

  it('announces changes and forgets a removed server', async () => {
    const { schedules } = service();
    const seen: Array<[number, unknown]> = [];
    schedules.on('changed', (id, schedule) => seen.push([id, schedule && schedule.autoStop]));
    await schedules.update(server, 'stop', { schedule: { autoStop: true } });
    await schedules.remove(1);
    expect(seen).toEqual([[1, true], [1, null]]);
    expect(schedules.entries()).toEqual([]);
  });
});
