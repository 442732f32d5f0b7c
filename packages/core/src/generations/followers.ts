import type { ServerWatchers } from '../scheduler/watchers.js';
import type { GenerationEvent } from './results.js';
import type { GenerationService } from './generation-service.js';

/** Events kept per running generation for `since` replays; older ones are summed up by the current progress. */
const REPLAY_DEPTH = 200;

/**
 * Who follows which generation, and what a follower that comes back has missed. Following a generation counts its
 * server as watched, so idle stop waits while anybody follows, whether through the API's WebSocket or the library.
 */
export class GenerationFollowers {
  readonly #generations: GenerationService;
  readonly #watchers: ServerWatchers;
  readonly #recent = new Map<number, GenerationEvent[]>();
  /** generationId -> serverId of the generations somebody follows. */
  readonly #followed = new Map<number, number>();

  constructor(options: { generations: GenerationService; watchers: ServerWatchers }) {
    this.#generations = options.generations;
    this.#watchers = options.watchers;
  }

  /** Feed every generation event here, in order. */
  record(event: GenerationEvent): void {
    if (event.type !== 'progress') {
      this.#recent.delete(event.generationId);
      return;
    }
    let list = this.#recent.get(event.generationId);
    if (!list) this.#recent.set(event.generationId, (list = []));
    list.push(event);
    if (list.length > REPLAY_DEPTH) list.shift();
  }

  /**
   * Starts following a generation of the user's (NOT_FOUND for another user's) and returns what to send at once:
   * the final event of a finished generation, or what was missed after `since`.
   */
  follow(userId: number, generationId: number, since?: number): GenerationEvent[] {
    const { serverId } = this.#generations.get(userId, generationId);
    if (!this.#followed.has(generationId)) {
      this.#followed.set(generationId, serverId);
      this.#watchers.watch(serverId);
    }
    const final = this.#generations.finalEvent(userId, generationId);
    if (final) return since !== undefined && final.seq <= since ? [] : [final];
    if (since === undefined) return [];
    const missed = (this.#recent.get(generationId) ?? []).filter((e) => e.seq > since);
    if (missed.length > 0 && missed[0]!.seq === since + 1) return missed;
    // The buffer does not reach back to `since`: send where the generation stands now.
    return this.#generations.eventsSince(userId, generationId, since);
  }

  /** Nobody follows the generation any more. */
  unfollow(generationId: number): void {
    const serverId = this.#followed.get(generationId);
    if (serverId === undefined) return;
    this.#followed.delete(generationId);
    this.#watchers.unwatch(serverId);
  }
}
