import type { ComfyVast } from '@comfy-vast/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pino from 'pino';
import { admit } from './http/admit.js';
import { clientErrorResponse } from './http/client-error.js';
import { toErrorBody } from './http/error-body.js';
import { registerJsonParser } from './http/json-parser.js';
import { registerRoutes } from './routes/index.js';
import { ComfyVastError } from '@comfy-vast/core';
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
/** Longer than any parameter the contract accepts, so the contract's own limits name the field at fault. */
const MAX_PARAM_LENGTH = 256;

/** The HTTP and WebSocket API over a ComfyVast instance. Listening is the caller's. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { comfyVast } = options;
  const now = () => new Date(comfyVast.clock.now());

  function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const { status, body } = toErrorBody(error, now());
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  }

  const fastify = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: ONE_MIB,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // URLs the router cannot decode never reach the hooks; the caller is still authenticated first.
    frameworkErrors: (error, request, reply) => {
      try {
        admit(comfyVast, request, reply);
      } catch (refusal) {
        return sendError(refusal, request, reply);
      }
      return sendError(error, request, reply);
    },
    clientErrorHandler: (error, socket) => {
      if (error.code !== 'ECONNRESET' && socket.writable) socket.write(clientErrorResponse(error, now()));
      socket.destroy();
    },
  });
  registerJsonParser(fastify);
  fastify.decorateRequest('user', null);

  // Auth runs before routing's 404 too, so an anonymous caller cannot map which paths exist.
  fastify.addHook('onRequest', async (request, reply) => {
    const auth = (request.routeOptions.config as { auth?: string } | undefined)?.auth ?? 'user';
    if (auth !== 'none') admit(comfyVast, request, reply);
  });

  fastify.setErrorHandler(sendError);
  fastify.setNotFoundHandler((request) => {
    throw new ComfyVastError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`, { details: { method: request.method } });
  });

  const hub = new WebSocketHub({ users: comfyVast.users, logger: options.logger.child({ component: 'ws' }), apiLimiter: comfyVast.limiters.api, clock: comfyVast.clock });
  connectGenerationTopic(hub, comfyVast.generations, comfyVast.watchers);
  connectServerTopic(hub, comfyVast);
  registerRoutes({ fastify, comfyVast, hub, provider: options.provider, version: options.version });
  fastify.server.on('upgrade', (request, socket, head) => hub.handleUpgrade(request, socket, head));
  // Open sockets would hold the HTTP server's close; end them first.
  fastify.addHook('preClose', async () => hub.close());
  await fastify.ready();
  return { fastify, hub };
}
