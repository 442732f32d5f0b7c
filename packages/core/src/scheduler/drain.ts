import type { Clock, Logger } from '../util/index.js';
import type { CutWork, DrainState, StoredSchedulerHistoryRecord } from './records.js';
import { hasWork, type ActionReason, type ScheduleTarget, type ServerActivity, type ServerInfo } from './schedule-target.js';
import type { HistoryEntry } from './history.js';
import { MINUTE_MS } from './time-zone.js';

export interface Drain {
  reason: ActionReason;
  deadline: number;
}

/** Writes a history entry (with the drain it begins, for a runner that takes it up) and announces it; supplied by the runner. */
export type Report = (server: ServerInfo, entry: Omit<HistoryEntry, 'serverId' | 'userId'>, drain?: DrainState) => Promise<void>;

export interface DrainerOptions {
  target: ScheduleTarget;
  clock: Clock;
  logger: Logger;
  graceMs: number;
  report: Report;
}

function describeWork(a: ServerActivity): string {
  const parts: string[] = [];
  if (a.running > 0) parts.push(`${a.running} running generation${a.running === 1 ? '' : 's'}`);
  if (a.queued > 0) parts.push(`${a.queued} queued generation${a.queued === 1 ? '' : 's'}`);
  if (a.setup) parts.push('a setup');
  if (a.downloads > 0) parts.push(`${a.downloads} download${a.downloads === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/**
 * Stops that never cut work by surprise: a server with work keeps running (draining) until the work ends or the
 * grace period runs out; then it is stopped and the history records what was cut.
 */
export class Drainer {
  #drains = new Map<number, Drain>();
  #o: DrainerOptions;

  constructor(options: DrainerOptions) {
    this.#o = options;
  }

  isDraining(serverId: number): boolean {
    return this.#drains.has(serverId);
  }

  /** When a draining server is stopped at the latest. */
  deadline(serverId: number): number | undefined {
    return this.#drains.get(serverId)?.deadline;
  }

  get count(): number {
    return this.#drains.size;
  }

  /** Stops the server now if it has no work, otherwise starts draining it (a second request keeps the first deadline). */
  async requestStop(server: ServerInfo, reason: ActionReason): Promise<void> {
    if (this.#drains.has(server.id)) return;
    const activity = this.#o.target.activity(server.id);
    if (!hasWork(activity)) return this.#stop(server, reason, `${reason.message}; no work in progress`);
    const deadline = this.#o.clock.now() + this.#o.graceMs;
    this.#drains.set(server.id, { reason, deadline });
    await this.#o.report(
      server,
      {
        event: 'draining',
        trigger: reason.trigger,
        reason: `${reason.message}; waiting for ${describeWork(activity)} (at most ${Math.round(this.#o.graceMs / MINUTE_MS)} min)`,
      },
      { message: reason.message, stopsBy: new Date(deadline).toISOString() },
    );
  }

  /**
   * Takes up a drain the history shows under way (begun by this process before a restart, or by another one) with
   * its own reason and deadline; `check` then finishes it as any other. Nothing is written: the drain began already.
   */
  restore(server: ServerInfo, entry: StoredSchedulerHistoryRecord): void {
    if (this.#drains.has(server.id)) return;
    this.#drains.set(server.id, this.drainOf(entry));
  }

  /** The drain a `draining` history entry began, whichever process wrote it. */
  drainOf(entry: StoredSchedulerHistoryRecord): Drain {
    // An entry written before drains were stored with it: its text and the grace period stand in.
    const message = entry.drain?.message ?? entry.reason;
    const deadline = entry.drain ? Date.parse(entry.drain.stopsBy) : Date.parse(entry.at) + this.#o.graceMs;
    return { reason: { trigger: entry.trigger, message }, deadline };
  }

  /** Finishes a drain whose work ended or whose grace period ran out. */
  async check(server: ServerInfo): Promise<void> {
    const drain = this.#drains.get(server.id);
    if (!drain) return;
    const activity = this.#o.target.activity(server.id);
    if (!hasWork(activity)) return this.#stop(server, drain.reason, `${drain.reason.message}; work finished`);
    if (this.#o.clock.now() < drain.deadline) return;
    const cut: CutWork = { queued: activity.queued, running: activity.running, setup: activity.setup, downloads: activity.downloads };
    await this.#stop(server, drain.reason, `${drain.reason.message}; grace period over, cutting ${describeWork(activity)}`, cut);
  }

  /** A start came while draining: the server keeps running. */
  async cancel(server: ServerInfo, reason: ActionReason): Promise<void> {
    if (!this.#drains.delete(server.id)) return;
    await this.#o.report(server, { event: 'drain-cancelled', trigger: reason.trigger, reason: `${reason.message}; the pending stop is cancelled` });
  }

  /**
   * Drops a drain whose server stopped or vanished by other means. A server still there gets it in its history,
   * so that a runner started later does not take the drain up again once the server runs anew.
   */
  async forget(serverId: number, server?: ServerInfo): Promise<void> {
    const drain = this.#drains.get(serverId);
    if (!drain) return;
    this.#drains.delete(serverId);
    if (server) {
      await this.#o.report(server, { event: 'drain-cancelled', trigger: drain.reason.trigger, reason: `${drain.reason.message}; the server stopped otherwise, the pending stop is dropped` });
    }
  }

  /** Drops every drain: the runner stopped, and nothing here will finish them. */
  clear(): void {
    this.#drains.clear();
  }

  async #stop(server: ServerInfo, reason: ActionReason, message: string, cut?: CutWork): Promise<void> {
    this.#drains.delete(server.id);
    try {
      await this.#o.target.stop(server.id, reason);
    } catch (error) {
      this.#o.logger.warn({ serverId: server.id, err: error }, 'scheduled stop failed');
      await this.#o.report(server, { event: 'failed', trigger: reason.trigger, reason: `${message}; stop failed: ${(error as Error).message}` });
      return;
    }
    await this.#o.report(server, { event: 'stopped', trigger: reason.trigger, reason: message, ...(cut ? { cut } : {}) });
  }
}
