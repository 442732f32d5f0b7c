import type { ComfyVast } from '@comfy-vast/core';
import { toExecutionLineEvent } from '../wire/setup.js';
import type { WebSocketHub } from './hub.js';

/**
 * Publishes the lines of setups and resets on the hub, and answers subscriptions by following the execution in the
 * library: the lines kept so far (after `since` when given) come at once, the last of a finished one with its final
 * status; another user's execution is reported missing.
 */
export function connectExecutionTopic(hub: WebSocketHub, comfyVast: ComfyVast): void {
  comfyVast.on('execution:event', (event) => hub.publish('executionId', event.executionId, toExecutionLineEvent(event), { droppable: event.entry.kind === 'progress' }));
  hub.registerTopic('executionId', {
    subscribe(userId, executionId, since) {
      try {
        return comfyVast.followExecution(userId, executionId, since).map(toExecutionLineEvent);
      } catch {
        return null;
      }
    },
    unsubscribed: (executionId) => comfyVast.unfollowExecution(executionId),
  });
}
