import { EventEmitter } from 'eventemitter3';
import type { Store } from '../store/index.js';
import { systemClock, type Clock } from '../util/index.js';
import { schedulesCollection } from './records.js';
import { DEFAULT_SCHEDULE, mergeSchedule, parseScheduleUpdate, type Schedule, type ScheduleSide } from './schedule-schema.js';
import { nextAction, type ScheduleAction } from './schedule-time.js';
import type { ServerInfo } from './schedule-target.js';
import { TimeZones } from './time-zone.js';

/** A server's schedule as its owner reads it: the server, its schedule and the next action planned. */
export interface ScheduleView {
  server: { id: number; name: string; status: string };
  schedule: Schedule;
  nextAction: { action: ScheduleAction; scheduledTime: string } | null;
}

export interface ScheduleEntry {
  serverId: number;
  userId: number | null;
  schedule: Schedule;
}

export interface ScheduleServiceEvents {
  /** A schedule was written or removed (`schedule` null); the runner replans that server. */
  changed: [serverId: number, schedule: Schedule | null];
}

/** Spec-style instant: whole seconds, `Z`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Stored schedules, one per server; a server without one has `DEFAULT_SCHEDULE` (nothing automatic). */
export class ScheduleService extends EventEmitter<ScheduleServiceEvents> {
  #records;
  #clock: Clock;
  #zones = new TimeZones();
  /** serverId -> record id: the runner reads every server's schedule on each replan. */
  #byServer = new Map<number, number>();

  constructor(options: { store: Store; clock?: Clock }) {
    super();
    this.#records = options.store.collection(schedulesCollection);
    this.#clock = options.clock ?? systemClock;
    for (const r of this.#records.all()) this.#byServer.set(r.serverId, r.id);
  }

  get(serverId: number): Schedule {
    const record = this.#record(serverId);
    if (!record) return DEFAULT_SCHEDULE;
    const { id: _id, serverId: _serverId, userId: _userId, updatedAt: _updatedAt, ...schedule } = record;
    return schedule;
  }

  /**
   * The schedule as stored, without copying: a stored record carries the schedule's fields (and a few more),
   * so planning thousands of servers allocates nothing here. Read-only.
   */
  peek(serverId: number): Readonly<Schedule> {
    return this.#record(serverId) ?? DEFAULT_SCHEDULE;
  }

  entries(): ScheduleEntry[] {
    return this.#records.all().map((r) => ({ serverId: r.serverId, userId: r.userId, schedule: this.get(r.serverId) }));
  }

  /**
   * Applies an update of one side of the schedule (`start`: when it starts; `stop`: when it stops, idle stop
   * included): validated, merged into the current schedule, stored. The caller has already checked the server is the user's.
   */
  async update(server: ServerInfo, side: ScheduleSide, body: unknown): Promise<ScheduleView> {
    const schedule = mergeSchedule(this.get(server.id), parseScheduleUpdate(side, body));
    const stored = { ...schedule, serverId: server.id, userId: server.userId, updatedAt: new Date(this.#clock.now()).toISOString() };
    const existing = this.#record(server.id);
    if (existing) await this.#records.update(existing.id, stored);
    else this.#byServer.set(server.id, (await this.#records.insert(stored)).id);
    this.emit('changed', server.id, schedule);
    return this.view(server);
  }

  /** Forgets a deleted server's schedule. */
  async remove(serverId: number): Promise<void> {
    const id = this.#byServer.get(serverId);
    if (id === undefined) return;
    this.#byServer.delete(serverId);
    await this.#records.delete(id);
    this.emit('changed', serverId, null);
  }

  /**
   * Schedule records another process wrote or deleted (ids of the collection, already in the store's memory):
   * looked up as local ones are, and announced the same way, so the runner replans them.
   */
  remoteChanged(recordIds: readonly number[]): void {
    for (const id of recordIds) {
      const record = this.#records.get(id);
      if (record) {
        this.#byServer.set(record.serverId, id);
        this.emit('changed', record.serverId, this.get(record.serverId));
        continue;
      }
      for (const [serverId, recordId] of this.#byServer) {
        if (recordId !== id) continue;
        this.#byServer.delete(serverId);
        this.emit('changed', serverId, null);
      }
    }
  }

  /** The schedule of a server the caller may see. */
  view(server: ServerInfo): ScheduleView {
    const schedule = this.get(server.id);
    const next = nextAction(schedule, this.#clock.now(), this.#zones);
    return {
      server: { id: server.id, name: server.name, status: server.status },
      schedule,
      nextAction: next && { action: next.action, scheduledTime: isoSeconds(next.at) },
    };
  }

  #record(serverId: number) {
    const id = this.#byServer.get(serverId);
    return id === undefined ? undefined : this.#records.get(id);
  }
}
