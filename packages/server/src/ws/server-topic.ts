import type { ComfyVast } from '@comfy-vast/core';
import { toBudgetEvent, toSchedulerActionEvent, toServerStatusEvent } from '../wire/servers.js';
import type { WebSocketHub } from './hub.js';

/**
 * Server news for their owners: status changes and what the scheduler did (subscribe with `serverId`), and
 * budget warnings, which reach every connection of the user.
 */
export function connectServerTopic(hub: WebSocketHub, comfyVast: ComfyVast): void {
  comfyVast.on('server:status', ({ server, previous }) => hub.publish('serverId', server.id, toServerStatusEvent(server, previous)));
  comfyVast.on('scheduler:action', (record) => hub.publish('serverId', record.serverId, toSchedulerActionEvent(record)));
  comfyVast.on('budget:warning', (status) => hub.publishToUser(status.userId, toBudgetEvent('budget:warning', status)));
  comfyVast.on('budget:exceeded', (status) => hub.publishToUser(status.userId, toBudgetEvent('budget:exceeded', status)));

  hub.registerTopic('serverId', {
    subscribe(userId, serverId) {
      try {
        return [toServerStatusEvent(comfyVast.getServer(userId, serverId))];
      } catch {
        return null;
      }
    },
  });
}
