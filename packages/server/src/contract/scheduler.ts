import { Schedule, ScheduleStartUpdate, ScheduleStopUpdate, SchedulerHistoryRecord } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, PageQuery } from './common.js';
import { defineEndpoint } from './endpoint.js';

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
    body: ScheduleStartUpdate,
    response: ScheduleView,
  }),
  updateScheduleStop: defineEndpoint({
    method: 'POST',
    path: '/server-scheduler/:serverId/stop',
    summary: 'Update the stop side of the schedule (autoStop, stopTime, timezone, weekdays, idleStopMinutes)',
    tag,
    auth: 'user',
    params: ServerParams,
    body: ScheduleStopUpdate,
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
    response: z.array(SchedulerHistoryRecord),
  }),
};
