import type { Clock } from '../util/index.js';
import type { Page, Store } from '../store/index.js';
import { schedulerHistoryCollection, type SchedulerHistoryRecord } from './records.js';

export type HistoryEntry = Omit<SchedulerHistoryRecord, 'id' | 'at'>;

/** What the scheduler did and why, per server, newest first. */
export class SchedulerHistory {
  #records;
  #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#records = store.collection(schedulerHistoryCollection);
    this.#clock = clock;
  }

  record(entry: HistoryEntry): Promise<SchedulerHistoryRecord> {
    return this.#records.insert({ ...entry, at: new Date(this.#clock.now()).toISOString() });
  }

  list(serverId: number, options: { limit?: number; cursor?: number | null } = {}): Page<SchedulerHistoryRecord> {
    return this.#records.page({ ...options, where: (r) => r.serverId === serverId });
  }
}
