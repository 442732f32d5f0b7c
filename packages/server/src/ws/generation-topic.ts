import type { ComfyVast } from '@comfy-vast/core';
import { toGenerationEvent } from '../wire/generations.js';
import type { WebSocketHub } from './hub.js';

/**
 * Publishes the library's generation events on the hub, and answers subscriptions by following the generation
 * in the library (which keeps the replay and counts the server as watched): a finished generation sends its final
 * event at once, `since` replays what the client missed, another user's generation is reported missing.
 */
export function connectGenerationTopic(hub: WebSocketHub, comfyVast: ComfyVast): void {
  comfyVast.on('generation:event', (event) => hub.publish('generationId', event.generationId, toGenerationEvent(event), { droppable: event.type === 'progress' }));
  hub.registerTopic('generationId', {
    subscribe(userId, generationId, since) {
      try {
        return comfyVast.followGeneration(userId, generationId, since).map(toGenerationEvent);
      } catch {
        return null;
      }
    },
    unsubscribed: (generationId) => comfyVast.unfollowGeneration(generationId),
  });
}
