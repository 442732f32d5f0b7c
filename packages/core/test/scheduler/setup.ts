import { MemoryStore, ManualClock, type Store } from '../../src/index.js';
import { ScheduleService } from '../../src/scheduler/schedule-service.js';
import { SchedulerRunner, type SchedulerRunnerOptions } from '../../src/scheduler/runner.js';
import type { ServerInfo } from '../../src/scheduler/schedule-target.js';
import type { ScheduleStartUpdate, ScheduleStopUpdate } from '../../src/scheduler/schedule-schema.js';
import { FakeTarget } from './fake-target.js';

export interface Rig {
  clock: ManualClock;
  store: Store;
  target: FakeTarget;
  schedules: ScheduleService;
  runner: SchedulerRunner;
  /** Writes both sides of a server's schedule as the two POST routes would. */
  schedule(serverId: number, start: ScheduleStartUpdate['schedule'], stop: ScheduleStopUpdate['schedule']): Promise<void>;
}

export function rig(startIso: string, options: Partial<SchedulerRunnerOptions> & { store?: Store; clock?: ManualClock } = {}): Rig {
  const clock = options.clock ?? new ManualClock(Date.parse(startIso));
  const store = options.store ?? new MemoryStore();
  const target = new FakeTarget(() => clock.now());
  const schedules = new ScheduleService({ store, clock });
  const runner = new SchedulerRunner({ ...options, target, schedules, store, clock });
  target.onChange = (id) => runner.serverChanged(id);
  return {
    clock,
    store,
    target,
    schedules,
    runner,
    async schedule(serverId, start, stop) {
      const server = target.getServer(serverId) as ServerInfo;
      await schedules.update(server, 'start', { schedule: start });
      await schedules.update(server, 'stop', { schedule: stop });
    },
  };
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
