import type { ComfyVast } from '@comfy-vast/core';
import type { GenerationEvent } from '../contract/index.js';
import { toGenerationEvent } from '../wire/generations.js';
import type { WebSocketHub } from './hub.js';

type ProgressEvent = Extract<GenerationEvent, { type: 'progress' }>;

/**
 * Publishes the library's generation events on the hub, and answers subscriptions by following the generation
 * in the library (which keeps the replay and counts the server as watched): a finished generation sends its final
 * event at once, `since` replays what the client missed, another user's generation is reported missing.
 * Preview images go only to subscribers that want them (all but those that subscribed with `previews: false`); the
 * others get each progress event without its image, and nothing for an event that only brought a new image (their `seq` skips it).
 */
export function connectGenerationTopic(hub: WebSocketHub, comfyVast: ComfyVast): void {
  /** The last progress each running generation published, to tell an event that only brings a preview. */
  const shown = new Map<number, ProgressEvent['data']>();
  comfyVast.on('generation:event', (domain) => {
    const event = toGenerationEvent(domain);
    if (event.type !== 'progress') {
      shown.delete(event.generationId);
      return hub.publish('generationId', event.generationId, event);
    }
    const before = shown.get(event.generationId);
    shown.set(event.generationId, event.data);
    if (event.data.previewImage === null) return hub.publish('generationId', event.generationId, event, { droppable: true });
    const previewOnly = before !== undefined && before.progress === event.data.progress && before.currentNodeId === event.data.currentNodeId && before.status === event.data.status;
    hub.publish('generationId', event.generationId, event, { droppable: true, withoutPreviews: previewOnly ? null : withoutPreview(event) });
  });
  hub.registerTopic('generationId', {
    subscribe(userId, generationId, since, options) {
      try {
        const events = comfyVast.followGeneration(userId, generationId, since).map(toGenerationEvent);
        return options?.previews !== false ? events : events.map((e) => (e.type === 'progress' && e.data.previewImage !== null ? withoutPreview(e) : e));
      } catch {
        return null;
      }
    },
    unsubscribed: (generationId) => comfyVast.unfollowGeneration(generationId),
  });
}

function withoutPreview(event: ProgressEvent): ProgressEvent {
  return { ...event, data: { ...event.data, previewImage: null } };
}
