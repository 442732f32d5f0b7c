import { z } from 'zod';
import { defineCollection } from '../store/index.js';
import { Schedule } from './schedule-schema.js';

export const ScheduleRecord = Schedule.extend({
  id: z.number().int(),
  serverId: z.number().int(),
  userId: z.number().int().nullable(),
  updatedAt: z.string(),
});
export type ScheduleRecord = z.infer<typeof ScheduleRecord>;

export const schedulesCollection = defineCollection({ name: 'schedules', schema: ScheduleRecord });

/** Work a stop cut short after the grace period. */
export const CutWork = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  setup: z.boolean(),
  downloads: z.number().int(),
});
export type CutWork = z.infer<typeof CutWork>;

/**
 * One thing the scheduler did or decided: `started`/`stopped` (the action was asked of the server), `draining`
 * (a stop waits for work), `drain-cancelled` (a start came first, or the server stopped otherwise), `failed` (the
 * server refused the action).
 */
export const SchedulerHistoryRecord = z.object({
  id: z.number().int(),
  serverId: z.number().int(),
  userId: z.number().int().nullable(),
  at: z.string(),
  event: z.enum(['started', 'stopped', 'draining', 'drain-cancelled', 'failed']),
  trigger: z.enum(['schedule', 'catch-up', 'idle', 'budget']),
  reason: z.string(),
  cut: CutWork.optional(),
});
export type SchedulerHistoryRecord = z.infer<typeof SchedulerHistoryRecord>;

/**
 * What a runner needs to go on with a drain another one began (this process before a restart, the previous holder of
 * the background lease): the stop's own reason, as the entries that end the drain repeat it, and when it cuts.
 */
export const DrainState = z.object({ message: z.string(), stopsBy: z.string() });
export type DrainState = z.infer<typeof DrainState>;

/** A history entry as stored: a `draining` one also keeps its drain, which the history never shows. */
export const StoredSchedulerHistoryRecord = SchedulerHistoryRecord.extend({ drain: DrainState.optional() });
export type StoredSchedulerHistoryRecord = z.infer<typeof StoredSchedulerHistoryRecord>;

export const schedulerHistoryCollection = defineCollection({ name: 'scheduler_history', schema: StoredSchedulerHistoryRecord, kind: 'log' });
