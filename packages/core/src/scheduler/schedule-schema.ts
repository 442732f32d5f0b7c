import { z } from 'zod';
import { ComfyVastError } from '../errors/index.js';
import { isKnownTimeZone } from './time-zone.js';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

export const ScheduleTime = z.string().regex(HH_MM, { message: 'must be a 24-hour time HH:MM, such as 09:00 or 18:30' });

export const ScheduleTimezone = z
  .string()
  .min(1, { message: 'must be an IANA time zone such as America/New_York' })
  .refine(isKnownTimeZone, { message: 'must be an IANA time zone known to Intl, such as America/New_York or UTC' });

/** 1 Monday .. 7 Sunday; 0 is accepted for Sunday and stored as 7. */
export const ScheduleWeekday = z
  .number({ message: 'must be a weekday number from 1 (Monday) to 7 (Sunday)' })
  .int({ message: 'must be a whole weekday number from 1 (Monday) to 7 (Sunday)' })
  .min(0, { message: 'must be a weekday number from 1 (Monday) to 7 (Sunday)' })
  .max(7, { message: 'must be a weekday number from 1 (Monday) to 7 (Sunday)' })
  .transform((d) => (d === 0 ? 7 : d));

/** Listed days, sorted and without repeats, so [0, 7, 1] and [1, 7] are the same schedule. */
export const ScheduleWeekdays = z.array(ScheduleWeekday).transform((days) => [...new Set(days)].sort((a, b) => a - b));

/** Minutes without work after which a running server is stopped; null turns idle stop off. */
export const IdleStopMinutes = z
  .number({ message: 'must be a number of minutes from 1 to 10080, or null to turn idle stop off' })
  .int({ message: 'must be a whole number of minutes' })
  .min(1, { message: 'must be at least 1 minute' })
  .max(10_080, { message: 'must be at most 10080 minutes (one week)' })
  .nullable();

/** A server's weekly schedule: the spec's fields plus `idleStopMinutes`. */
export const Schedule = z.object({
  autoStart: z.boolean({ message: 'must be true or false' }),
  autoStop: z.boolean({ message: 'must be true or false' }),
  startTime: ScheduleTime,
  stopTime: ScheduleTime,
  timezone: ScheduleTimezone,
  weekdays: ScheduleWeekdays,
  idleStopMinutes: IdleStopMinutes.default(null),
});
export type Schedule = z.infer<typeof Schedule>;
/** What a caller may write: `idleStopMinutes` may be left out and 0 may stand for Sunday. */
export type ScheduleInput = z.input<typeof Schedule>;

/** A server without a stored schedule: nothing automatic, office hours on weekdays ready to switch on. */
export const DEFAULT_SCHEDULE: Schedule = {
  autoStart: false,
  autoStop: false,
  startTime: '09:00',
  stopTime: '18:00',
  timezone: 'UTC',
  weekdays: [1, 2, 3, 4, 5],
  idleStopMinutes: null,
};

const BODY_MESSAGE = 'must be an object of schedule fields, such as {"autoStart": true, "startTime": "08:00"}';

/** An update of the start side: any of its fields; others are ignored. */
export const ScheduleStartUpdate = z.object({
  schedule: z.object({
    autoStart: Schedule.shape.autoStart.optional(),
    startTime: ScheduleTime.optional(),
    timezone: ScheduleTimezone.optional(),
    weekdays: ScheduleWeekdays.optional(),
  }, { message: BODY_MESSAGE }),
});
export type ScheduleStartUpdate = z.input<typeof ScheduleStartUpdate>;

/** An update of the stop side: any of its fields, idle stop included. */
export const ScheduleStopUpdate = z.object({
  schedule: z.object({
    autoStop: Schedule.shape.autoStop.optional(),
    stopTime: ScheduleTime.optional(),
    timezone: ScheduleTimezone.optional(),
    weekdays: ScheduleWeekdays.optional(),
    idleStopMinutes: IdleStopMinutes.optional(),
  }, { message: BODY_MESSAGE }),
});
export type ScheduleStopUpdate = z.input<typeof ScheduleStopUpdate>;

export type ScheduleSide = 'start' | 'stop';

/** The schedule after a partial update of one side; fields the body leaves out keep their value. */
export function mergeSchedule(current: Schedule, patch: Partial<Schedule>): Schedule {
  const merged = { ...current };
  for (const [key, value] of Object.entries(patch) as [keyof Schedule, unknown][]) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

/**
 * Parses a start-side or stop-side body, answering VALIDATION_ERROR whose message and details name the field
 * at fault (`schedule.startTime must be a 24-hour time HH:MM, ...`).
 */
export function parseScheduleUpdate(side: ScheduleSide, body: unknown): Partial<Schedule> {
  const result = (side === 'start' ? ScheduleStartUpdate : ScheduleStopUpdate).safeParse(body);
  if (result.success) return result.data.schedule;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) fields[issue.path.map(String).join('.') || 'schedule'] ??= issue.message;
  const [field, message] = Object.entries(fields)[0]!;
  throw new ComfyVastError('VALIDATION_ERROR', `Invalid schedule: ${field} ${message}`, { details: { field, fields } });
}
