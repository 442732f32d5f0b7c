import { ComfyVastError } from '../errors/index.js';
import type { ServerService } from '../servers/index.js';
import type { Clock } from '../util/clock.js';
import type { BudgetService } from './budget.js';
import type { ActionReason, ScheduleTarget, ServerActivity, ServerInfo } from './schedule-target.js';
import type { ServerWatchers } from './watchers.js';

/** Generation work on one server, as the generation service counts it. */
export interface GenerationActivity {
  queued: number;
  running: number;
  /** Epoch ms of the latest generation queued or finished on the server, or 0. */
  lastActivityAt: number;
}

/** Remote work on one server: a setup or reset running, model downloads queued or running. */
export interface RemoteActivity {
  setup: boolean;
  downloads: number;
  /** Epoch ms of the latest remote work started or finished on the server, or 0. */
  lastActivityAt: number;
}

export interface ServerScheduleTargetOptions {
  servers: ServerService;
  generationActivity: (serverId: number) => GenerationActivity;
  remoteActivity: (serverId: number) => RemoteActivity;
  watchers: ServerWatchers;
  budgets: BudgetService;
  clock: Clock;
}

/** The scheduler's view of the real servers: ServerService for control, the generation service and watchers for activity. */
export class ServerScheduleTarget implements ScheduleTarget {
  #options: ServerScheduleTargetOptions;
  /** When each server was last seen becoming `running`, so a fresh start gets its full idle allowance. */
  #runningSince = new Map<number, number>();

  constructor(options: ServerScheduleTargetOptions) {
    this.#options = options;
  }

  /** Call on every status change. */
  statusChanged(serverId: number, status: string): void {
    if (status === 'running') this.#runningSince.set(serverId, this.#options.clock.now());
    else this.#runningSince.delete(serverId);
  }

  listServers(): ServerInfo[] {
    return this.#options.servers.listAll().map(({ userId, server }) => ({ id: server.id, name: server.name, status: server.status, userId }));
  }

  getServer(serverId: number): ServerInfo | undefined {
    const entry = this.#options.servers.find(serverId);
    return entry && { id: entry.server.id, name: entry.server.name, status: entry.server.status, userId: entry.userId };
  }

  async start(serverId: number, _reason: ActionReason): Promise<void> {
    const userId = this.#owner(serverId);
    this.#options.budgets.assertCanSpend(userId);
    await this.#options.servers.start(userId, serverId);
  }

  async stop(serverId: number, _reason: ActionReason): Promise<void> {
    await this.#options.servers.stop(this.#owner(serverId), serverId);
  }

  activity(serverId: number): ServerActivity {
    const generations = this.#options.generationActivity(serverId);
    const remote = this.#options.remoteActivity(serverId);
    const server = this.#options.servers.find(serverId)?.server;
    // Before this process saw it start, the last status change is the best guess of when it did.
    const runningSince = this.#runningSince.get(serverId) ?? (server ? Date.parse(server.updatedAt) : 0);
    return {
      queued: generations.queued,
      running: generations.running,
      setup: remote.setup,
      downloads: remote.downloads,
      subscribers: this.#options.watchers.count(serverId),
      lastActivityAt: Math.max(generations.lastActivityAt, remote.lastActivityAt, runningSince, this.#options.watchers.lastLeftAt(serverId) ?? 0),
    };
  }

  #owner(serverId: number): number {
    const entry = this.#options.servers.find(serverId);
    if (!entry) throw new ComfyVastError('SERVER_NOT_FOUND', `Server ${serverId} not found`, { details: { serverId } });
    return entry.userId;
  }
}
