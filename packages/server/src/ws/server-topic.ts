import type { ComfyVast } from '@comfy-vast/core';
import type { WebSocketHub } from './hub.js';

/**
 * Server news for their owners: status changes and what the scheduler did (subscribe with `serverId`), and
 * budget warnings, which reach every connection of the user.
 */
export function connectServerTopic(hub: WebSocketHub, comfyVast: ComfyVast): void {
  comfyVast.on('server:status', ({ server, previous }) =>
    hub.publish('serverId', server.id, { type: 'server:status', serverId: server.id, data: { status: server.status, previous, isLaunched: server.isLaunched, statusReason: server.statusReason } }),
  );
  comfyVast.on('scheduler:action', (record) => hub.publish('serverId', record.serverId, { type: 'scheduler:action', serverId: record.serverId, data: record }));
  comfyVast.on('budget:warning', (status) => hub.publishToUser(status.userId, { type: 'budget:warning', data: status }));
  comfyVast.on('budget:exceeded', (status) => hub.publishToUser(status.userId, { type: 'budget:exceeded', data: status }));

  hub.registerTopic('serverId', {
    subscribe(userId, serverId) {
      try {
        const server = comfyVast.servers.get(userId, serverId);
        return [{ type: 'server:status', serverId, data: { status: server.status, isLaunched: server.isLaunched, statusReason: server.statusReason } }];
      } catch {
        return null;
      }
    },
  });
}
