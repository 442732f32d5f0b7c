/**
 * When a weekly schedule starts and stops a server. Pure functions of a schedule and an instant (epoch ms):
 * - an action fires on each listed weekday at its local time in the schedule's zone;
 * - a stop time at or before the start time is an overnight window: the stop fires the day after each listed day;
 * - a local time skipped by a clock change fires at the first instant after the gap;
 * - a local time repeated by a clock change fires once, at its first occurrence.
 * The optional `zones` lets a caller that computes many schedules share the zones' memos.
 */
import type { Schedule } from './schedule-schema.js';
import { DAY_MS, MINUTE_MS, TimeZones, dayOfWall, isoWeekday, type TimeZone } from './time-zone.js';

/** The part of a schedule the time math reads. */
export interface ScheduleTimes {
  startTime: string;
  stopTime: string;
  timezone: string;
  readonly weekdays: readonly number[];
}
export type ScheduleAction = 'start' | 'stop';

export interface PlannedAction {
  action: ScheduleAction;
  /** Epoch milliseconds. */
  at: number;
}

/** Minutes after midnight of an `HH:MM` time (validated by the schema; read by position because replans call it often). */
export function minutesOf(time: string): number {
  const hours = (time.charCodeAt(0) - 48) * 10 + (time.charCodeAt(1) - 48);
  const minutes = (time.charCodeAt(3) - 48) * 10 + (time.charCodeAt(4) - 48);
  return hours * 60 + minutes;
}

/** A stop at or before the start closes the window on the next day. */
export function isOvernight(schedule: ScheduleTimes): boolean {
  return minutesOf(schedule.stopTime) <= minutesOf(schedule.startTime);
}

/** How an action maps to the calendar: its minutes after midnight and how many days after a listed day it fires. */
interface Rule {
  zone: TimeZone;
  minutes: number;
  shift: number;
  days: readonly number[];
}

function ruleOf(schedule: ScheduleTimes, action: ScheduleAction, zones: TimeZones): Rule {
  const stop = action === 'stop';
  return {
    zone: zones.get(schedule.timezone),
    minutes: minutesOf(stop ? schedule.stopTime : schedule.startTime),
    shift: stop && isOvernight(schedule) ? 1 : 0,
    days: schedule.weekdays,
  };
}

/** The instant the rule fires on local day `day`, or undefined when the listed day it belongs to is not listed. */
function firingOn(rule: Rule, day: number): number | undefined {
  const weekday = isoWeekday(day - rule.shift);
  if (!rule.days.includes(weekday) && !(weekday === 7 && rule.days.includes(0))) return undefined;
  return rule.zone.instantOf(day * DAY_MS + rule.minutes * MINUTE_MS);
}

/**
 * The first instant strictly after `after` at which `action` fires, or null when no weekday is listed.
 * Firing instants grow with the local day, so the first one found walking forward is the earliest; the walk
 * starts a day early because a gap can push yesterday's late time into today.
 */
export function nextOccurrence(schedule: ScheduleTimes, action: ScheduleAction, after: number, zones = new TimeZones()): number | null {
  const rule = ruleOf(schedule, action, zones);
  const today = dayOfWall(rule.zone.wallAt(after));
  for (let day = today - 1; day <= today + 8; day++) {
    const at = firingOn(rule, day);
    if (at !== undefined && at > after) return at;
  }
  return null;
}

/** The last instant at or before `atOrBefore` at which `action` fired, with the listed local day it belongs to. */
export function previousOccurrence(
  schedule: ScheduleTimes,
  action: ScheduleAction,
  atOrBefore: number,
  zones = new TimeZones(),
): { at: number; listedDay: number } | null {
  const rule = ruleOf(schedule, action, zones);
  const today = dayOfWall(rule.zone.wallAt(atOrBefore));
  for (let day = today + 1; day >= today - 8; day--) {
    const at = firingOn(rule, day);
    if (at !== undefined && at <= atOrBefore) return { at, listedDay: day - rule.shift };
  }
  return null;
}

export function nextStart(schedule: ScheduleTimes, after: number, zones = new TimeZones()): number | null {
  return nextOccurrence(schedule, 'start', after, zones);
}

export function nextStop(schedule: ScheduleTimes, after: number, zones = new TimeZones()): number | null {
  return nextOccurrence(schedule, 'stop', after, zones);
}

/** True when `instant` lies in a start-stop window: at or after a start and before the stop that closes it. */
export function isInsideWindow(schedule: ScheduleTimes, instant: number, zones = new TimeZones()): boolean {
  const start = previousOccurrence(schedule, 'start', instant, zones);
  if (!start) return false;
  const rule = ruleOf(schedule, 'stop', zones);
  const stopAt = rule.zone.instantOf((start.listedDay + rule.shift) * DAY_MS + rule.minutes * MINUTE_MS);
  return instant < stopAt;
}

/**
 * The next action the schedule takes after `after`: the earlier of the next start (when `autoStart`) and the
 * next stop (when `autoStop`); null when neither is on or no weekday is listed. When a window closes exactly
 * as the next one opens, the start wins and the server keeps running.
 */
export function nextAction(schedule: Schedule, after: number, zones = new TimeZones()): PlannedAction | null {
  const start = schedule.autoStart ? nextStart(schedule, after, zones) : null;
  const stop = schedule.autoStop ? nextStop(schedule, after, zones) : null;
  if (start !== null && (stop === null || start <= stop)) return { action: 'start', at: start };
  if (stop !== null) return { action: 'stop', at: stop };
  return null;
}
