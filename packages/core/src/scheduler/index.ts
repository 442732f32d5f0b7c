export { TimeZone, TimeZones, isKnownTimeZone, DAY_MS, HOUR_MS, MINUTE_MS } from './time-zone.js';
export {
  nextStart,
  nextStop,
  nextAction,
  nextOccurrence,
  previousOccurrence,
  isInsideWindow,
  isOvernight,
  minutesOf,
  type ScheduleTimes,
  type ScheduleAction,
  type PlannedAction,
} from './schedule-time.js';
export {
  Schedule,
  ScheduleTime,
  ScheduleTimezone,
  ScheduleWeekday,
  ScheduleWeekdays,
  IdleStopMinutes,
  ScheduleStartUpdate,
  ScheduleStopUpdate,
  DEFAULT_SCHEDULE,
  mergeSchedule,
  type ScheduleInput,
  type ScheduleSide,
} from './schedule-schema.js';
