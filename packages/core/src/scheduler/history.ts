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
  /** Each server's latest entry, built at first use and kept as entries are written here or by other processes. */
  #latest: Map<number, StoredSchedulerHistoryRecord> | null = null;

  constructor(store: Store, clock: Clock) {
    this.#records = store.collection(schedulerHistoryCollection);
    this.#clock = clock;
  }

  async record(entry: HistoryEntry, drain?: DrainState): Promise<SchedulerHistoryRecord> {
    const stored = await this.#records.insert({ ...entry, ...(drain ? { drain } : {}), at: new Date(this.#clock.now()).toISOString() });
    this.#see(stored);
    return shown(stored);
  }

  /** Entries another process wrote reached this one's records. */
  remoteChanged(ids: readonly number[]): void {
    for (const id of ids) {
      const record = this.#records.get(id);
      if (record) this.#see(record);
    }
  }

  list(serverId: number, options: { limit?: number; cursor?: number | null } = {}): Page<SchedulerHistoryRecord> {
    const page = this.#records.page({ ...options, where: (r) => r.serverId === serverId });
    return { ...page, items: page.items.map(shown) };
  }

  /** The `draining` entries nothing ended yet: each server's latest entry, where it is one. */
  openDrains(): StoredSchedulerHistoryRecord[] {
    return [...this.#latestByServer().values()].filter((r) => r.event === 'draining');
  }

  /** The server's `draining` entry when nothing ended that drain yet. */
  openDrain(serverId: number): StoredSchedulerHistoryRecord | undefined {
    const latest = this.#latestByServer().get(serverId);
    return latest?.event === 'draining' ? latest : undefined;
  }

  #latestByServer(): Map<number, StoredSchedulerHistoryRecord> {
    if (!this.#latest) {
      this.#latest = new Map();
      for (const record of this.#records.all()) this.#see(record);
    }
    return this.#latest;
  }

  #see(record: StoredSchedulerHistoryRecord): void {
    const seen = this.#latest?.get(record.serverId);
    if (!seen || later(record, seen)) this.#latest?.set(record.serverId, record);
  }
}
