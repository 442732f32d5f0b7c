import type { Clock } from '../util/clock.js';

/**
 * Who is watching each server's generations right now (WebSocket subscribers). Idle stop leaves a server
 * alone while somebody watches, and counts the moment the last one left as activity.
 */
export class ServerWatchers {
  #counts = new Map<number, number>();
  #lastLeftAt = new Map<number, number>();
  #clock: Clock;
  #onChange: (serverId: number) => void;

  constructor(options: { clock: Clock; onChange?: (serverId: number) => void }) {
    this.#clock = options.clock;
    this.#onChange = options.onChange ?? (() => {});
  }

  watch(serverId: number): void {
    this.#counts.set(serverId, (this.#counts.get(serverId) ?? 0) + 1);
    this.#onChange(serverId);
  }

  unwatch(serverId: number): void {
    const left = (this.#counts.get(serverId) ?? 0) - 1;
    if (left > 0) this.#counts.set(serverId, left);
    else this.#counts.delete(serverId);
    this.#lastLeftAt.set(serverId, this.#clock.now());
    this.#onChange(serverId);
  }

  count(serverId: number): number {
    return this.#counts.get(serverId) ?? 0;
  }

  lastLeftAt(serverId: number): number | undefined {
    return this.#lastLeftAt.get(serverId);
  }
}
