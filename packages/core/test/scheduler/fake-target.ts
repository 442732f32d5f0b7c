import { ComfyVastError } from '../../src/errors/index.js';
import type { ActionReason, ScheduleTarget, ServerActivity, ServerInfo } from '../../src/scheduler/schedule-target.js';

export interface Call {
  action: 'start' | 'stop';
  serverId: number;
  at: number;
  reason: ActionReason;
}

/**
 * Servers in memory that start and stop at once and tell a listener, as the facade's adapter does for real
 * servers. Every call is kept with its instant so tests assert exact counts and times.
 */
export class FakeTarget implements ScheduleTarget {
  readonly calls: Call[] = [];
  /** Servers whose provider refuses to start or stop them, as Vast does when an offer's GPU is taken. */
  readonly refusing = new Set<number>();
  onChange: (serverId: number) => void = () => {};
  #servers = new Map<number, ServerInfo>();
  #activity = new Map<number, ServerActivity>();
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  add(server: Partial<ServerInfo> & { id: number }): void {
    this.#servers.set(server.id, { name: `GPU Server ${server.id}`, status: 'stopped', userId: 1, ...server });
    this.#activity.set(server.id, idle(this.#now()));
  }

  setActivity(serverId: number, patch: Partial<ServerActivity>): void {
    this.#activity.set(serverId, { ...this.activity(serverId), ...patch });
  }

  listServers(): ServerInfo[] {
    return [...this.#servers.values()];
  }

  getServer(serverId: number): ServerInfo | undefined {
    return this.#servers.get(serverId);
  }

  activity(serverId: number): ServerActivity {
    return this.#activity.get(serverId) ?? idle(this.#now());
  }

  async start(serverId: number, reason: ActionReason): Promise<void> {
    this.calls.push({ action: 'start', serverId, at: this.#now(), reason });
    if (this.refusing.has(serverId)) throw new ComfyVastError('VAST_API_ERROR', 'no GPU available on the host');
    this.#set(serverId, 'running');
    this.setActivity(serverId, { lastActivityAt: this.#now() });
    this.onChange(serverId);
  }

  async stop(serverId: number, reason: ActionReason): Promise<void> {
    this.calls.push({ action: 'stop', serverId, at: this.#now(), reason });
    if (this.refusing.has(serverId)) throw new ComfyVastError('VAST_API_ERROR', 'host unreachable');
    this.#set(serverId, 'stopped');
    this.onChange(serverId);
  }

  #set(serverId: number, status: string): void {
    const server = this.#servers.get(serverId);
    if (server) this.#servers.set(serverId, { ...server, status });
  }
}

function idle(now: number): ServerActivity {
  return { queued: 0, running: 0, setup: false, downloads: 0, subscribers: 0, lastActivityAt: now };
}
