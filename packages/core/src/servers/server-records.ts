import type { EventEmitter } from 'eventemitter3';
import { ComfyVastError } from '../errors/index.js';
import type { Collection, Store } from '../store/index.js';
import type { Clock } from '../util/index.js';
import type { ServerEvents } from './events.js';
import { costAt, describeServer, serversCollection, type Server, type ServerRecord } from './server-record.js';

export type NewServer = Omit<ServerRecord, 'id' | 'createdAt' | 'updatedAt' | 'costAccrued' | 'costAccruedAt' | 'deletedAt'>;
export type ServerPatch = Partial<Omit<ServerRecord, 'id' | 'userId' | 'createdAt'>>;

/**
 * The servers collection with its bookkeeping: cost accrues at the old rate before a status change, every change
 * is written before the event about it goes out, and ownership checks answer another user's server exactly as a
 * missing one.
 */
export class ServerRecords {
  readonly #collection: Collection<ServerRecord>;
  readonly #clock: Clock;
  readonly #events: EventEmitter<ServerEvents>;
  /** Writes per record since start, so a slow reader can tell that a record changed under it. */
  readonly #versions = new Map<number, number>();
  readonly #simulated: boolean;

  /** With `simulated`, rented servers are stored as `vast` (the reconciler treats them so) and shown as `simulated`. */
  constructor(store: Store, clock: Clock, events: EventEmitter<ServerEvents>, options: { simulated?: boolean } = {}) {
    this.#collection = store.collection(serversCollection);
    this.#clock = clock;
    this.#events = events;
    this.#simulated = options.simulated ?? false;
  }

  get(id: number): ServerRecord | undefined {
    return this.#collection.get(id);
  }

  /** Servers not deleted. */
  live(): ServerRecord[] {
    return this.#collection.filter((r) => r.status !== 'deleted');
  }

  /** Changes with every write to the record; compare two readings to know whether it was written in between. */
  version(id: number): number {
    return this.#versions.get(id) ?? 0;
  }

  /** The live server holding an instance. A deleted one holds none: it never hides a server that took the id on. */
  findByVastId(vastId: number): ServerRecord | undefined {
    return this.#collection.find((r) => r.vastId === vastId && r.status !== 'deleted');
  }

  owned(userId: number, id: number): ServerRecord {
    const record = this.#collection.get(id);
    if (!record || record.userId !== userId || record.status === 'deleted') {
      throw new ComfyVastError('SERVER_NOT_FOUND', `Server ${id} not found`, { details: { serverId: id } });
    }
    return record;
  }

  describe(record: ServerRecord): Server {
    return this.#describe(record, this.#clock.now());
  }

  async insert(data: NewServer): Promise<ServerRecord> {
    const now = this.#clock.now();
    const iso = new Date(now).toISOString();
    const record = await this.#collection.insert({ ...data, costAccrued: 0, costAccruedAt: now, createdAt: iso, updatedAt: iso, deletedAt: null });
    this.#bump(record.id);
    return record;
  }

  /** Forgets a record that never became a server (the rent failed cleanly). */
  async discard(id: number): Promise<void> {
    await this.#collection.delete(id);
  }

  async update(before: ServerRecord, patch: ServerPatch): Promise<ServerRecord> {
    const now = this.#clock.now();
    const statusChanged = patch.status !== undefined && patch.status !== before.status;
    const accrual = statusChanged ? { costAccrued: costAt(before, now), costAccruedAt: now } : {};
    const deleted = patch.status === 'deleted' && statusChanged ? { deletedAt: new Date(now).toISOString() } : {};
    this.#bump(before.id);
    const after = await this.#collection.update(before.id, { ...patch, ...accrual, ...deleted, updatedAt: new Date(now).toISOString() });
    const event = { userId: after.userId, server: this.#describe(after, now) };
    if (statusChanged) this.#events.emit('server:status', { ...event, previous: before.status });
    if (after.status === 'deleted' && statusChanged) this.#events.emit('server:deleted', event);
    if (after.isLaunched && !before.isLaunched) this.#events.emit('server:launched', event);
    return after;
  }

  #describe(record: ServerRecord, now: number): Server {
    const server = describeServer(record, now);
    return this.#simulated && server.provider === 'vast' ? { ...server, provider: 'simulated' } : server;
  }

  #bump(id: number): void {
    this.#versions.set(id, this.version(id) + 1);
  }
}
