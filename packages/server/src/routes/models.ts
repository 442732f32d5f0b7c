import { isComfyVastError } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { toDownloadMissing, toDownloadProgress, toDownloadStarted } from '../wire/models.js';
import { connectDownloadTopic } from '../ws/download-topic.js';
import type { RouteContext } from './context.js';

/** The model section: listings, downloads, and the downloads' WebSocket topic. */
export function registerModelRoutes({ fastify, comfyVast, hub }: RouteContext): void {
  connectDownloadTopic(hub, comfyVast);
  route(fastify, contract.listModels, ({ user, params }) => comfyVast.listModels(user.id, params.serverId));

  route(fastify, contract.downloadModel, async ({ user, params, body, reply }) => {
    try {
      return toDownloadStarted(await comfyVast.downloadModel(user.id, params.serverId, body));
    } catch (error) {
      // The daily byte allowance says when it has room again.
      if (isComfyVastError(error, 'RATE_LIMIT_EXCEEDED')) reply.header('Retry-After', Math.max(1, Number(error.details.retryAfter) || 1));
      throw error;
    }
  });

  route(fastify, contract.getDownload, ({ user, params }) => toDownloadProgress(comfyVast.getDownload(user.id, params.downloadId)));

  route(fastify, contract.cancelDownload, async ({ user, params }) => toDownloadProgress(await comfyVast.cancelDownload(user.id, params.downloadId)));

  route(fastify, contract.downloadMissing, async ({ user, params, body }) => toDownloadMissing(await comfyVast.downloadMissing(user.id, params.serverId, body)));
}
