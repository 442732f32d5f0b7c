import { ComfyVastError } from '@comfy-vast/core';
import type { FastifyRequest } from 'fastify';

/** The answer to a request no route serves: a path nothing answers on, or an upgrade where no WebSocket is. */
export function noRoute(request: FastifyRequest): ComfyVastError {
  return new ComfyVastError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`, { details: { method: request.method } });
}
