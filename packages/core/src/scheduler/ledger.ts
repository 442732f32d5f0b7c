import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import { defineCollection, type Store } from '../store/index.js';
import { systemClock, type Clock } from '../util/index.js';
import { costBetween, rateInStatus, type Prices, type StatusChange } from './cost.js';

export const CostEventRecord = z.object({
  id: z.number().int(),
  serverId: z.number().int(),
  userId: z.number().int().nullable(),
  status: z.string(),
  at: z.number(),
  pricePerHour: z.number().nonnegative(),
  storagePerHour: z.number().nonnegative(),
});
export type CostEventRecord = z.infer<typeof CostEventRecord>;

/** Status changes with their prices, appended only: the cost of any period is derived from them. */
export const costEventsCollection = defineCollection({ name: 'server_cost_events', schema: CostEventRecord, kind: 'log' });

export interface CostLedgerEvents {
  /** A server's status or prices changed; budgets replan. */
  changed: [serverId: number, userId: number | null];
}

/**
 * What each server has cost: the facade records every status change with Vast's `dph_total` and
 * `storage_total_cost`; `costSoFar` and monthly spending per user come from those records.
 */
export class CostLedger extends EventEmitter<CostLedgerEvents> {
  #records;
  #clock: Clock;
  #byServer = new Map<number, { userId: number | null; changes: StatusChange[] }>();

  constructor(options: { store: Store; clock?: Clock }) {
    super();
    this.#records = options.store.collection(costEventsCollection);
    this.#clock = options.clock ?? systemClock;
    for (const r of this.#records.all()) this.#append(r);
  }

  /** Records a server's status and prices from now on; a repeat of the current status and prices is ignored. */
  async recordStatus(server: { id: number; userId: number | null }, status: string, prices: Prices): Promise<void> {
    const last = this.#byServer.get(server.id)?.changes.at(-1);
    if (last && last.status === status && last.pricePerHour === prices.pricePerHour && last.storagePerHour === prices.storagePerHour) return;
    const record = await this.#records.insert({ serverId: server.id, userId: server.userId, status, at: this.#clock.now(), ...prices });
    this.#append(record);
    this.emit('changed', server.id, server.userId);
  }

  /** Status changes another process recorded (ids, already in the store's memory): counted here as well. */
  remoteChanged(recordIds: readonly number[]): void {
    for (const id of recordIds) {
      const record = this.#records.get(id);
      if (!record) continue;
      this.#append(record);
      this.emit('changed', record.serverId, record.userId);
    }
  }

  /** Dollars the server has cost from its first recorded status until now. */
  costSoFar(serverId: number): number {
    const changes = this.#byServer.get(serverId)?.changes;
    return changes ? costBetween(changes, -Infinity, this.#clock.now()) : 0;
  }

  /** $/hour the server costs right now. */
  currentRate(serverId: number): number {
    const last = this.#byServer.get(serverId)?.changes.at(-1);
    return last ? rateInStatus(last.status, last) : 0;
  }

  /** The price per hour while running, as last recorded: a generation's share is GPU seconds at this price. */
  runningPrice(serverId: number): number {
    return this.#byServer.get(serverId)?.changes.at(-1)?.pricePerHour ?? 0;
  }

  /** Dollars a user's servers (deleted ones included) cost between `from` and `to`. */
  spent(userId: number, from: number, to: number): number {
    let total = 0;
    for (const entry of this.#byServer.values()) if (entry.userId === userId) total += costBetween(entry.changes, from, to);
    return total;
  }

  /** $/hour a user's servers cost right now. */
  burnRate(userId: number): number {
    let total = 0;
    for (const [serverId, entry] of this.#byServer) if (entry.userId === userId) total += this.currentRate(serverId);
    return total;
  }

  #append(record: CostEventRecord): void {
    let entry = this.#byServer.get(record.serverId);
    if (!entry) {
      entry = { userId: record.userId, changes: [] };
      this.#byServer.set(record.serverId, entry);
    }
    const change = { status: record.status, at: record.at, pricePerHour: record.pricePerHour, storagePerHour: record.storagePerHour };
    // In time order: another process's change may be heard of after a later one of this process.
    let i = entry.changes.length;
    while (i > 0 && entry.changes[i - 1]!.at > change.at) i--;
    entry.changes.splice(i, 0, change);
  }
}
