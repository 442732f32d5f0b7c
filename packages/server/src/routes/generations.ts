import { isComfyVastError } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { setRateLimitHeaders } from '../http/rate-limit-headers.js';
import { route } from '../http/route.js';
import { toCancelResponse, toGenerateResponse, toHistoryItem } from '../wire/generations.js';
import type { RouteContext } from './context.js';

export function registerGenerationRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.generate, async ({ user, params, body, reply }) => {
    try {
      return toGenerateResponse(await comfyVast.generate(user.id, params.serverId, body));
    } catch (error) {
      // The refusal's headers are the generation limit's, not the API limit's set before routing.
      if (isComfyVastError(error, 'RATE_LIMIT_EXCEEDED')) setRateLimitHeaders(reply, await comfyVast.limiters.generations.peek(String(user.id)));
      throw error;
    }
  });
  route(fastify, contract.getProgress, ({ user, params }) => comfyVast.getProgress(user.id, params.generationId));
  route(fastify, contract.listActive, ({ user }) => comfyVast.listActiveGenerations(user.id));

  route(fastify, contract.cancelGeneration, async ({ user, params }) => toCancelResponse(await comfyVast.cancelGeneration(user.id, params.generationId)));

  route(fastify, contract.listGenerations, ({ user, params, query, reply }) => {
    const page = comfyVast.listGenerations(user.id, params.serverId, { limit: query.limit, cursor: query.cursor });
    if (page.nextCursor !== null) reply.header('X-Next-Cursor', String(page.nextCursor));
    return page.items.map(toHistoryItem);
  });

  route(fastify, contract.getImage, async ({ user, params, request, reply }) => {
    const image = await comfyVast.getImage(user.id, params.file);
    reply.header('Cache-Control', 'private, max-age=31536000, immutable');
    if (request.headers['if-none-match'] === image.etag) {
      reply.code(304).header('ETag', image.etag);
      return { binary: true, contentType: image.contentType, body: Buffer.alloc(0), etag: image.etag };
    }
    return { binary: true, contentType: image.contentType, body: image.open(), length: image.size, etag: image.etag };
  });
}
