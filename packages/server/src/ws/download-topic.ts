import type { ComfyVast } from '@comfy-vast/core';
import { toDownloadEvent } from '../wire/models.js';
import type { WebSocketHub } from './hub.js';

/**
 * Publishes every change of a model download on the hub, and answers a subscription with the download as it stands
 * (a finished one's final state at once); another user's download is reported missing. Progress events may be
 * dropped for a slow consumer: each carries the whole state, so the next one makes up for it.
 */
export function connectDownloadTopic(hub: WebSocketHub, comfyVast: ComfyVast): void {
  comfyVast.on('download:event', (view) => hub.publish('downloadId', view.downloadId, toDownloadEvent(view), { droppable: view.status === 'downloading' }));
  hub.registerTopic('downloadId', {
    subscribe(userId, downloadId) {
      try {
        return [toDownloadEvent(comfyVast.getDownload(userId, downloadId))];
      } catch {
        return null;
      }
    },
  });
}
