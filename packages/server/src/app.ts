import type { ComfyVast } from '@comfy-vast/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type pino from 'pino';
import { authenticate } from './http/auth.js';
import { toErrorBody } from './http/error-body.js';
import { registerJsonParser } from './http/json-parser.js';
import { setRateLimitHeaders } from './http/rate-limit-headers.js';
import { registerRoutes } from './routes/index.js';
import { ComfyVastError, rateLimitError } from '@comfy-vast/core';
import { connectGenerationTopic } from './ws/generation-topic.js';
import { connectServerTopic } from './ws/server-topic.js';
import { WebSocketHub } from './ws/hub.js';

export interface AppOptions {
  comfyVast: ComfyVast;
  logger: pino.Logger;
  provider: 'vast' | 'simulated';
  version: string;
}

export interface App {
  fastify: FastifyInstance;
  hub: WebSocketHub;
}

const ONE_MIB = 1024 * 1024;

/** The HTTP and WebSocket API over a ComfyVast instance. Listening is the caller's. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { comfyVast } = options;
  const fastify = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: ONE_MIB,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
  });
  registerJsonParser(fastify);
  fastify.decorateRequest('user', null);

  // Auth runs before routing's 404 too, so an anonymous caller cannot map which paths exist.
  fastify.addHook('onRequest', async (request, reply) => {
    const auth = (request.routeOptions.config as { auth?: string } | undefined)?.auth ?? 'user';
    if (auth === 'none') return;
    request.user = authenticate(comfyVast.users, request);
    const result = comfyVast.limiters.api.consume(`api:${request.user.id}`);
    setRateLimitHeaders(reply, result);
    if (!result.allowed) throw rateLimitError(result, 'requests');
  });

  fastify.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorBody(error, new Date(comfyVast.clock.now()));
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  });
  fastify.setNotFoundHandler((request) => {
    throw new ComfyVastError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`, { details: { method: request.method } });
  });

  const hub = new WebSocketHub({ users: comfyVast.users, logger: options.logger.child({ component: 'ws' }) });
  connectGenerationTopic(hub, comfyVast.generations, comfyVast.watchers);
  connectServerTopic(hub, comfyVast);
  registerRoutes({ fastify, comfyVast, hub, provider: options.provider, version: options.version });
  fastify.server.on('upgrade', (request, socket, head) => hub.handleUpgrade(request, socket, head));
  // Open sockets would hold the HTTP server's close; end them first.
  fastify.addHook('preClose', async () => hub.close());
  await fastify.ready();
  return { fastify, hub };
}
