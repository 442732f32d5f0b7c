import type { Clock } from '../util/index.js';
import type { Page, Store } from '../store/index.js';
import { schedulerHistoryCollection, type DrainState, type SchedulerHistoryRecord, type StoredSchedulerHistoryRecord } from './records.js';

export type HistoryEntry = Omit<SchedulerHistoryRecord, 'id' | 'at'>;

/** A stored entry as the history shows it: without the drain kept for the runner. */
function shown({ drain: _drain, ...record }: StoredSchedulerHistoryRecord): SchedulerHistoryRecord {
  return record;
}

/** Whether `a` was written after `b`; ids alone do not say it when several processes hand out blocks of them. */
function later(a: StoredSchedulerHistoryRecord, b: StoredSchedulerHistoryRecord): boolean {
  const at = Date.parse(a.at) - Date.parse(b.at);
  return at > 0 || (at === 0 && a.id > b.id);
}

/** What the scheduler did and why, per server, newest first. */
export class SchedulerHistory {
  #records;
  #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#records = store.collection(schedulerHistoryCollection);
    this.#clock = clock;
  }

  async record(entry: HistoryEntry, drain?: DrainState): Promise<SchedulerHistoryRecord> {
    return shown(await this.#records.insert({ ...entry, ...(drain ? { drain } : {}), at: new Date(this.#clock.now()).toISOString() }));
  }

  list(serverId: number, options: { limit?: number; cursor?: number | null } = {}): Page<SchedulerHistoryRecord> {
    const page = this.#records.page({ ...options, where: (r) => r.serverId === serverId });
    return { ...page, items: page.items.map(shown) };
  }

  /** The `draining` entries nothing ended yet: each server's latest entry, where it is one. */
  openDrains(): StoredSchedulerHistoryRecord[] {
    const latest = new Map<number, StoredSchedulerHistoryRecord>();
    for (const record of this.#records.all()) {
      const seen = latest.get(record.serverId);
      if (!seen || later(record, seen)) latest.set(record.serverId, record);
    }
    return [...latest.values()].filter((r) => r.event === 'draining');
  }
}
