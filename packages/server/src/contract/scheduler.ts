import type { ScheduleStartUpdate as CoreStartUpdate, ScheduleStopUpdate as CoreStopUpdate } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, IsoDate, PageQuery } from './common.js';
import { defineEndpoint } from './endpoint.js';
import type { Fits } from './fits.js';

const ScheduleTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time HH:MM, such as 09:00 or 18:30');
/** The library checks that the zone is one Intl knows. */
const Timezone = z.string().describe('An IANA time zone, such as America/New_York or UTC');
/** 1 Monday .. 7 Sunday; 0 is accepted for Sunday and stored as 7. */
const Weekdays = z.array(z.number().int().min(0).max(7));
/** Minutes without work after which a running server is stopped; null turns idle stop off. */
const IdleStopMinutes = z.number().int().min(1).max(10_080).nullable();

/** A server's weekly schedule: the spec's fields plus `idleStopMinutes`. */
const Schedule = z.object({
  autoStart: z.boolean(),
  autoStop: z.boolean(),
  startTime: ScheduleTime,
  stopTime: ScheduleTime,
  timezone: Timezone,
  weekdays: Weekdays,
  idleStopMinutes: IdleStopMinutes,
});

const BODY_MESSAGE = 'must be an object of schedule fields, such as {"autoStart": true, "startTime": "08:00"}';

/** Any of the start side's fields; others are ignored. */
const StartUpdate = z.object({
  schedule: z.object(
    { autoStart: z.boolean().optional(), startTime: ScheduleTime.optional(), timezone: Timezone.optional(), weekdays: Weekdays.optional() },
    { message: BODY_MESSAGE },
  ),
});
type _StartUpdateIsInput = Fits<z.output<typeof StartUpdate>, CoreStartUpdate>;

/** Any of the stop side's fields, idle stop included. */
const StopUpdate = z.object({
  schedule: z.object(
    {
      autoStop: z.boolean().optional(),
      stopTime: ScheduleTime.optional(),
      timezone: Timezone.optional(),
      weekdays: Weekdays.optional(),
      idleStopMinutes: IdleStopMinutes.optional(),
    },
    { message: BODY_MESSAGE },
  ),
});
type _StopUpdateIsInput = Fits<z.output<typeof StopUpdate>, CoreStopUpdate>;

/**
 * One thing the scheduler did or decided: `started`/`stopped` (the action was asked of the server), `draining`
 * (a stop waits for work), `drain-cancelled` (a start came first), `failed` (the server refused the action).
 */
export const SchedulerHistoryItem = z.object({
  id: z.number().int(),
  serverId: z.number().int(),
  userId: z.number().int().nullable(),
  at: IsoDate,
  event: z.enum(['started', 'stopped', 'draining', 'drain-cancelled', 'failed']),
  trigger: z.enum(['schedule', 'catch-up', 'idle', 'budget']),
  reason: z.string(),
  /** Work a stop cut short after the grace period. */
  cut: z.object({ queued: z.number().int(), running: z.number().int(), setup: z.boolean(), downloads: z.number().int() }).optional(),
});

const ScheduleView = z.object({
  server: z.object({ id: z.number(), name: z.string(), status: z.string() }),
  schedule: Schedule,
  nextAction: z.object({ action: z.enum(['start', 'stop']), scheduledTime: z.string() }).nullable(),
});
const ServerParams = z.object({ serverId: Id });
const tag = 'Server Scheduler';

export const schedulerEndpoints = {
  getSchedule: defineEndpoint({
    method: 'GET',
    path: '/server-scheduler/:serverId',
    summary: 'A server’s weekly schedule and its next scheduled action',
    tag,
    auth: 'user',
    params: ServerParams,
    response: ScheduleView,
  }),
  updateScheduleStart: defineEndpoint({
    method: 'POST',
    path: '/server-scheduler/:serverId/start',
    summary: 'Update the start side of the schedule (autoStart, startTime, timezone, weekdays)',
    tag,
    auth: 'user',
    params: ServerParams,
    body: StartUpdate,
    response: ScheduleView,
  }),
  updateScheduleStop: defineEndpoint({
    method: 'POST',
    path: '/server-scheduler/:serverId/stop',
    summary: 'Update the stop side of the schedule (autoStop, stopTime, timezone, weekdays, idleStopMinutes)',
    tag,
    auth: 'user',
    params: ServerParams,
    body: StopUpdate,
    response: ScheduleView,
  }),
  scheduleHistory: defineEndpoint({
    method: 'GET',
    path: '/server-scheduler/:serverId/history',
    summary: 'What the scheduler did to a server and why, newest first; the next page’s cursor is in X-Next-Cursor',
    tag,
    auth: 'user',
    params: ServerParams,
    query: PageQuery,
    response: z.array(SchedulerHistoryItem),
  }),
};
