import { describe, expect, it } from 'vitest';
import { isInsideWindow, minutesOf, nextAction, nextStart, nextStop } from '../../src/scheduler/schedule-time.js';
import { DEFAULT_SCHEDULE } from '../../src/scheduler/schedule-schema.js';

const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(':00.000Z', 'Z'));
const at = (text: string) => Date.parse(text);

interface Case {
  name: string;
  timezone: string;
  startTime: string;
  stopTime: string;
  weekdays?: number[];
  after: string;
  start: string;
  stop: string;
}

// Expected instants come from the zones' published rules (2026/2027): US changes on 8 Mar / 1 Nov 2026 and
// 14 Mar / 7 Nov 2027 at 02:00; the EU at 01:00 UTC on 29 Mar / 25 Oct 2026 and 28 Mar / 31 Oct 2027; Sydney
// on 5 Apr / 4 Oct 2026 and 4 Apr / 3 Oct 2027 (03:00 back, 02:00 forward); Lord Howe the same days, 30 minutes
// at 02:00; Kolkata never.
const cases: Case[] = [
  // New York
  { name: 'NY spring gap 2026: 02:30 fires as clocks reach 03:00 EDT', timezone: 'America/New_York', startTime: '02:30', stopTime: '08:00', after: '2026-03-08T00:00Z', start: '2026-03-08T07:00Z', stop: '2026-03-08T12:00Z' },
  { name: 'NY fall-back 2026: 01:30 fires at its first (EDT) occurrence', timezone: 'America/New_York', startTime: '01:30', stopTime: '05:00', after: '2026-11-01T00:00Z', start: '2026-11-01T05:30Z', stop: '2026-11-01T10:00Z' },
  { name: 'NY fall-back 2026: the repeated 01:30 EST does not fire again', timezone: 'America/New_York', startTime: '01:30', stopTime: '05:00', after: '2026-11-01T05:30Z', start: '2026-11-02T06:30Z', stop: '2026-11-01T10:00Z' },
  { name: 'NY spring gap 2027 at exactly 02:00', timezone: 'America/New_York', startTime: '02:00', stopTime: '09:00', after: '2027-03-14T00:00Z', start: '2027-03-14T07:00Z', stop: '2027-03-14T13:00Z' },
  { name: 'NY fall-back 2027 at 01:00', timezone: 'America/New_York', startTime: '01:00', stopTime: '01:59', after: '2027-11-07T00:00Z', start: '2027-11-07T05:00Z', stop: '2027-11-07T05:59Z' },
  // Berlin
  { name: 'Berlin spring gap 2026: 02:15 fires at 03:00 CEST', timezone: 'Europe/Berlin', startTime: '02:15', stopTime: '10:00', after: '2026-03-28T23:00Z', start: '2026-03-29T01:00Z', stop: '2026-03-29T08:00Z' },
  { name: 'Berlin fall-back 2026: 02:30 fires at the CEST one', timezone: 'Europe/Berlin', startTime: '02:30', stopTime: '07:00', after: '2026-10-24T22:00Z', start: '2026-10-25T00:30Z', stop: '2026-10-25T06:00Z' },
  { name: 'Berlin fall-back 2026: next day after the first 02:30', timezone: 'Europe/Berlin', startTime: '02:30', stopTime: '07:00', after: '2026-10-25T00:30Z', start: '2026-10-26T01:30Z', stop: '2026-10-25T06:00Z' },
  { name: 'Berlin spring gap 2027', timezone: 'Europe/Berlin', startTime: '02:00', stopTime: '02:59', after: '2027-03-27T12:00Z', start: '2027-03-28T01:00Z', stop: '2027-03-28T01:00Z' },
  { name: 'Berlin fall-back 2027', timezone: 'Europe/Berlin', startTime: '02:00', stopTime: '03:00', after: '2027-10-30T12:00Z', start: '2027-10-31T00:00Z', stop: '2027-10-31T02:00Z' },
  // Sydney
  { name: 'Sydney fall-back 2026: 02:30 fires at the AEDT one', timezone: 'Australia/Sydney', startTime: '02:30', stopTime: '09:00', after: '2026-04-04T00:00Z', start: '2026-04-04T15:30Z', stop: '2026-04-04T23:00Z' },
  { name: 'Sydney spring gap 2026: 02:30 fires at 03:00 AEDT', timezone: 'Australia/Sydney', startTime: '02:30', stopTime: '09:00', after: '2026-10-03T00:00Z', start: '2026-10-03T16:00Z', stop: '2026-10-03T22:00Z' },
  { name: 'Sydney fall-back 2027', timezone: 'Australia/Sydney', startTime: '02:00', stopTime: '04:00', after: '2027-04-03T00:00Z', start: '2027-04-03T15:00Z', stop: '2027-04-03T18:00Z' },
  { name: 'Sydney spring gap 2027', timezone: 'Australia/Sydney', startTime: '02:00', stopTime: '04:00', after: '2027-10-02T00:00Z', start: '2027-10-02T16:00Z', stop: '2027-10-02T17:00Z' },
  // Lord Howe: a 30-minute shift
  { name: 'Lord Howe spring gap 2026: 02:15 fires at 02:30 (+11)', timezone: 'Australia/Lord_Howe', startTime: '02:15', stopTime: '06:00', after: '2026-10-03T00:00Z', start: '2026-10-03T15:30Z', stop: '2026-10-03T19:00Z' },
  { name: 'Lord Howe fall-back 2026: 01:45 fires at the +11 one', timezone: 'Australia/Lord_Howe', startTime: '01:45', stopTime: '06:00', after: '2026-04-04T00:00Z', start: '2026-04-04T14:45Z', stop: '2026-04-04T19:30Z' },
  { name: 'Lord Howe spring gap 2027', timezone: 'Australia/Lord_Howe', startTime: '02:00', stopTime: '03:00', after: '2027-10-02T00:00Z', start: '2027-10-02T15:30Z', stop: '2027-10-02T16:00Z' },
  { name: 'Lord Howe fall-back 2027', timezone: 'Australia/Lord_Howe', startTime: '01:30', stopTime: '02:00', after: '2027-04-03T00:00Z', start: '2027-04-03T14:30Z', stop: '2027-04-03T15:30Z' },
  // Kolkata: no DST
  { name: 'Kolkata across the US spring change', timezone: 'Asia/Kolkata', startTime: '09:00', stopTime: '17:30', weekdays: [1], after: '2026-03-08T00:00Z', start: '2026-03-09T03:30Z', stop: '2026-03-09T12:00Z' },
  { name: 'Kolkata across the EU autumn change', timezone: 'Asia/Kolkata', startTime: '00:00', stopTime: '23:59', weekdays: [7], after: '2026-10-24T00:00Z', start: '2026-10-24T18:30Z', stop: '2026-10-25T18:29Z' },
  // Overnight windows: the stop fires the day after each listed day
  { name: 'NY Friday night shift stops Saturday morning', timezone: 'America/New_York', startTime: '22:00', stopTime: '06:00', weekdays: [5], after: '2026-11-06T12:00Z', start: '2026-11-07T03:00Z', stop: '2026-11-07T11:00Z' },
  { name: 'NY overnight across the fall-back', timezone: 'America/New_York', startTime: '22:00', stopTime: '06:00', weekdays: [6], after: '2026-10-31T12:00Z', start: '2026-11-01T02:00Z', stop: '2026-11-01T11:00Z' },
  { name: 'Berlin overnight across the spring gap', timezone: 'Europe/Berlin', startTime: '23:00', stopTime: '07:00', weekdays: [6], after: '2026-03-28T12:00Z', start: '2026-03-28T22:00Z', stop: '2026-03-29T05:00Z' },
  { name: 'stop equal to start is a 24-hour window', timezone: 'Europe/Berlin', startTime: '09:00', stopTime: '09:00', weekdays: [1], after: '2026-06-01T00:00Z', start: '2026-06-01T07:00Z', stop: '2026-06-02T07:00Z' },
  { name: 'Sydney overnight: the Sunday stop for a Saturday night', timezone: 'Australia/Sydney', startTime: '20:00', stopTime: '02:30', weekdays: [6], after: '2026-10-03T00:00Z', start: '2026-10-03T10:00Z', stop: '2026-10-03T16:00Z' },
  { name: '0 stands for Sunday', timezone: 'UTC', startTime: '12:00', stopTime: '13:00', weekdays: [0], after: '2026-06-01T00:00Z', start: '2026-06-07T12:00Z', stop: '2026-06-07T13:00Z' },
];

describe('next start and stop', () => {
  it.each(cases)('$name', (c) => {
    const schedule = { timezone: c.timezone, startTime: c.startTime, stopTime: c.stopTime, weekdays: c.weekdays ?? ALL_DAYS };
    expect(iso(nextStart(schedule, at(c.after)))).toBe(c.start);
    expect(iso(nextStop(schedule, at(c.after)))).toBe(c.stop);
  });

  // 1 June 2026 is a Monday, so weekday d falls on 1 + (d - 1) June.
  describe.each([1, 2, 3, 4, 5, 6, 7])('weekday %i', (day) => {
    it('fires on that day only, in Kolkata and New York', () => {
      const dd = String(day).padStart(2, '0');
      const kolkata = { timezone: 'Asia/Kolkata', startTime: '10:00', stopTime: '11:00', weekdays: [day] };
      expect(iso(nextStart(kolkata, at('2026-06-01T00:00Z')))).toBe(`2026-06-${dd}T04:30Z`);
      const newYork = { ...kolkata, timezone: 'America/New_York' };
      expect(iso(nextStart(newYork, at('2026-06-01T00:00Z')))).toBe(`2026-06-${dd}T14:00Z`);
      expect(iso(nextStop(newYork, at('2026-06-01T00:00Z')))).toBe(`2026-06-${dd}T15:00Z`);
    });
  });

  it('has nothing to fire without weekdays', () => {
    const schedule = { ...DEFAULT_SCHEDULE, autoStart: true, autoStop: true, weekdays: [] };
    expect(nextStart(schedule, 0)).toBeNull();
    expect(nextAction(schedule, 0)).toBeNull();
  });
});

describe('minutesOf', () => {
  it.each([
    ['00:00', 0],
    ['09:05', 545],
    ['18:30', 1110],
    ['23:59', 1439],
  ])('%s is %i minutes after midnight', (time, minutes) => {
    expect(minutesOf(time)).toBe(minutes);
  });
});

describe('nextAction', () => {
  const office = { ...DEFAULT_SCHEDULE, autoStart: true, autoStop: true, timezone: 'America/New_York' };

  it('gives the stop during office hours and the start outside them', () => {
    expect(nextAction(office, at('2026-06-01T15:00Z'))).toEqual({ action: 'stop', at: at('2026-06-01T22:00Z') });
    expect(nextAction(office, at('2026-06-01T23:00Z'))).toEqual({ action: 'start', at: at('2026-06-02T13:00Z') });
    expect(nextAction(office, at('2026-06-05T23:00Z'))).toEqual({ action: 'start', at: at('2026-06-08T13:00Z') });
  });

  it('skips the side that is switched off', () => {
    expect(nextAction({ ...office, autoStart: false }, at('2026-06-01T23:00Z'))).toEqual({ action: 'stop', at: at('2026-06-02T22:00Z') });
    expect(nextAction({ ...office, autoStart: false, autoStop: false }, at('2026-06-01T23:00Z'))).toBeNull();
  });

  it('keeps the server running when one 24-hour window closes as the next opens', () => {
    const allWeek = { ...office, timezone: 'UTC', startTime: '08:00', stopTime: '08:00', weekdays: ALL_DAYS };
    expect(nextAction(allWeek, at('2026-06-01T07:00Z'))).toEqual({ action: 'start', at: at('2026-06-01T08:00Z') });
    expect(nextAction(allWeek, at('2026-06-01T08:00Z'))).toEqual({ action: 'start', at: at('2026-06-02T08:00Z') });
  });
});

describe('isInsideWindow', () => {
  const office = { timezone: 'America/New_York', startTime: '09:00', stopTime: '18:00', weekdays: [1, 2, 3, 4, 5] };
  const night = { timezone: 'America/New_York', startTime: '22:00', stopTime: '06:00', weekdays: [5] };

  it.each([
    ['Monday 08:59 EDT', office, '2026-06-01T12:59Z', false],
    ['Monday 09:00 EDT', office, '2026-06-01T13:00Z', true],
    ['Monday 17:59 EDT', office, '2026-06-01T21:59Z', true],
    ['Monday 18:00 EDT', office, '2026-06-01T22:00Z', false],
    ['Saturday noon', office, '2026-06-06T16:00Z', false],
    ['Friday 23:00, overnight window', night, '2026-06-06T03:00Z', true],
    ['Saturday 05:59, overnight window', night, '2026-06-06T09:59Z', true],
    ['Saturday 06:00, overnight window', night, '2026-06-06T10:00Z', false],
    ['Sunday 02:00, no window', night, '2026-06-07T06:00Z', false],
    ['Saturday 05:30 EST after the fall-back', { ...night, weekdays: [6] }, '2026-11-01T10:30Z', true],
  ] as const)('%s', (_label, schedule, instant, inside) => {
    expect(isInsideWindow(schedule, at(instant))).toBe(inside);
  });
});
