import { EventEmitter } from 'eventemitter3';
import type { Clock } from '../util/clock.js';

export interface ServerWatchersEvents {
  /** Somebody started or stopped watching the server. */
  changed: [serverId: number];
}

/**
 * Who is watching each server's generations right now (followers of its generations). Idle stop leaves a server
 * alone while somebody watches, and counts the moment the last one left as activity.
 */
export class ServerWatchers extends EventEmitter<ServerWatchersEvents> {
  #counts = new Map<number, number>();
  #lastLeftAt = new Map<number, number>();
  #clock: Clock;

  constructor(options: { clock: Clock }) {
    super();
    this.#clock = options.clock;
  }

  watch(serverId: number): void {
    this.#counts.set(serverId, (this.#counts.get(serverId) ?? 0) + 1);
    this.emit('changed', serverId);
  }

  unwatch(serverId: number): void {
    const left = (this.#counts.get(serverId) ?? 0) - 1;
    if (left > 0) this.#counts.set(serverId, left);
    else this.#counts.delete(serverId);
    this.#lastLeftAt.set(serverId, this.#clock.now());
    this.emit('changed', serverId);
  }

  count(serverId: number): number {
    return this.#counts.get(serverId) ?? 0;
  }

  lastLeftAt(serverId: number): number | undefined {
    return this.#lastLeftAt.get(serverId);
  }
}
