import type { GenerationEvent, GenerationService, ServerWatchers } from '@comfy-vast/core';
import { toGenerationEvent } from '../wire/generations.js';
import type { TopicProvider, WebSocketHub } from './hub.js';
import type { HubEvent } from './messages.js';

/** Events kept per running generation for `since` replays; older ones are summed up by the current progress. */
const REPLAY_DEPTH = 200;

/**
 * Publishes generation events on the hub and answers subscriptions: a finished generation sends its final event
 * at once, `since` replays what the client missed, another user's generation is reported missing.
 */
export function connectGenerationTopic(hub: WebSocketHub, generations: GenerationService, watchers: ServerWatchers): void {
  const recent = new Map<number, HubEvent[]>();
  /** generationId -> serverId of generations somebody watches, so idle stop knows the server is in use. */
  const watched = new Map<number, number>();

  const remember = (event: GenerationEvent): HubEvent => {
    const out = toGenerationEvent(event);
    if (event.type !== 'progress') {
      recent.delete(event.generationId);
      return out;
    }
    let list = recent.get(event.generationId);
    if (!list) recent.set(event.generationId, (list = []));
    list.push(out);
    if (list.length > REPLAY_DEPTH) list.shift();
    return out;
  };

  generations.on('progress', (event) => hub.publish('generationId', event.generationId, remember(event), { droppable: true }));
  generations.on('complete', (event) => hub.publish('generationId', event.generationId, remember(event)));
  generations.on('error', (event) => hub.publish('generationId', event.generationId, remember(event)));

  const provider: TopicProvider = {
    subscribe(userId, generationId, since) {
      let serverId: number;
      try {
        serverId = generations.get(userId, generationId).serverId;
      } catch {
        return null;
      }
      if (!watched.has(generationId)) {
        watched.set(generationId, serverId);
        watchers.watch(serverId);
      }
      const final = generations.finalEvent(userId, generationId);
      if (final) return since !== undefined && final.seq <= since ? [] : [toGenerationEvent(final)];
      if (since === undefined) return [];
      const missed = (recent.get(generationId) ?? []).filter((e) => (e.seq as number) > since);
      if (missed.length > 0 && missed[0]!.seq === since + 1) return missed;
      // The buffer does not reach back to `since`: send where the generation stands now.
      return generations.eventsSince(userId, generationId, since).map(toGenerationEvent);
    },
    unsubscribed(generationId) {
      const serverId = watched.get(generationId);
      if (serverId === undefined) return;
      watched.delete(generationId);
      watchers.unwatch(serverId);
    },
  };
  hub.registerTopic('generationId', provider);
}
