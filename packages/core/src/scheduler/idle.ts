import type { Schedule } from './schedule-schema.js';
import { inUse, type ServerActivity } from './schedule-target.js';
import { MINUTE_MS } from './time-zone.js';

/**
 * When a server will be stopped for idleness if nothing happens meanwhile (for the server list), or null when
 * idle stop is off, the server is not running, or it is in use right now (it cannot idle-stop before its
 * work ends and a full `idleStopMinutes` has passed).
 */
export function idleStopAt(schedule: Pick<Schedule, 'idleStopMinutes'>, status: string, activity: ServerActivity): number | null {
  if (!schedule.idleStopMinutes || status !== 'running' || inUse(activity)) return null;
  return activity.lastActivityAt + schedule.idleStopMinutes * MINUTE_MS;
}

/**
 * When the runner should next look at a server for idleness: the idle-stop instant, or for a server in use the
 * earliest it could become one (`now` plus the allowance), so no polling is needed even if nobody says the
 * work ended.
 */
export function idleCheckAt(schedule: Pick<Schedule, 'idleStopMinutes'>, status: string, activity: ServerActivity, now: number): number | null {
  if (!schedule.idleStopMinutes || status !== 'running') return null;
  return idleStopAt(schedule, status, activity) ?? now + schedule.idleStopMinutes * MINUTE_MS;
}
