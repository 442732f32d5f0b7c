import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { toDownloadMissing, toDownloadProgress, toDownloadStarted } from '../wire/models.js';
import type { RouteContext } from './context.js';

/** The model section: listings and downloads. */
export function registerModelRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.listModels, ({ user, params }) => comfyVast.listModels(user.id, params.serverId));

  route(fastify, contract.downloadModel, async ({ user, params, body }) => toDownloadStarted(await comfyVast.downloadModel(user.id, params.serverId, body)));

  route(fastify, contract.getDownload, ({ user, params }) => toDownloadProgress(comfyVast.getDownload(user.id, params.downloadId)));

  route(fastify, contract.cancelDownload, async ({ user, params }) => toDownloadProgress(await comfyVast.cancelDownload(user.id, params.downloadId)));

  route(fastify, contract.downloadMissing, async ({ user, params, body }) => toDownloadMissing(await comfyVast.downloadMissing(user.id, params.serverId, body)));
}
