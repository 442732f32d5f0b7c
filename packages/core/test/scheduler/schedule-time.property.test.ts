import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInsideWindow, isOvernight, minutesOf, nextOccurrence, type ScheduleAction } from '../../src/scheduler/schedule-time.js';
import { DAY_MS, MINUTE_MS, TimeZones, dayOfWall, isoWeekday } from '../../src/scheduler/time-zone.js';

const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
const zones = new TimeZones();

const hhmm = fc.integer({ min: 0, max: 24 * 60 - 1 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
const schedule = fc.record({
  timezone: fc.constantFrom(...ZONES),
  startTime: hhmm,
  stopTime: hhmm,
  weekdays: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 7 }),
});
// 2026 to 2028, with a bias towards the hours around clock changes.
const instant = fc.oneof(
  fc.integer({ min: Date.parse('2026-01-01T00:00Z'), max: Date.parse('2028-12-31T00:00Z') }),
  fc.constantFrom('2026-03-08T06:00Z', '2026-03-29T00:30Z', '2026-10-03T15:00Z', '2026-04-04T15:00Z', '2026-11-01T05:00Z').map(Date.parse),
);
const action = fc.constantFrom<ScheduleAction>('start', 'stop');

describe('next occurrence properties', () => {
  it('is after now, within 8 days, on an allowed day, at the wall time or the first instant after a gap', () => {
    fc.assert(
      fc.property(schedule, instant, action, (s, now, which) => {
        const at = nextOccurrence(s, which, now, zones);
        expect(at).not.toBeNull();
        expect(at!).toBeGreaterThan(now);
        expect(at! - now).toBeLessThanOrEqual(8 * DAY_MS);

        const zone = zones.get(s.timezone);
        const wall = zone.wallAt(at!);
        const minutes = minutesOf(which === 'start' ? s.startTime : s.stopTime);
        const shift = which === 'stop' && isOvernight(s) ? 1 : 0;
        const allowed = new Set(s.weekdays.map((d) => (d === 0 ? 7 : d)));
        const wanted = dayOfWall(wall) * DAY_MS + minutes * MINUTE_MS;
        if (wall === wanted) {
          expect(allowed.has(isoWeekday(dayOfWall(wall) - shift))).toBe(true);
          // The first of a repeated wall time: an hour earlier the zone was not at this wall time.
          const earlierTwin = at! - (zone.offsetAt(at! - DAY_MS) - zone.offsetAt(at!));
          if (earlierTwin < at!) expect(zone.wallAt(earlierTwin)).not.toBe(wall);
        } else {
          // A gap: the wanted wall time lies between the last wall time before this instant and this one.
          const before = zone.wallAt(at! - 1000);
          const gapDay = wanted > wall ? dayOfWall(wall) - 1 : dayOfWall(wall);
          const gapWanted = gapDay * DAY_MS + minutes * MINUTE_MS;
          expect(before).toBeLessThan(gapWanted);
          expect(wall).toBeGreaterThan(gapWanted);
          expect(allowed.has(isoWeekday(gapDay - shift))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('is inside the window at a start and outside it at a stop of a same-day window', () => {
    fc.assert(
      fc.property(schedule, instant, (s, now) => {
        fc.pre(!isOvernight(s));
        const start = nextOccurrence(s, 'start', now, zones)!;
        const stop = nextOccurrence(s, 'stop', now, zones)!;
        fc.pre(start !== stop);
        expect(isInsideWindow(s, start, zones)).toBe(true);
        expect(isInsideWindow(s, stop, zones)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
