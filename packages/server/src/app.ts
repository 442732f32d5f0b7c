import { Socket } from 'node:net';
import { ComfyVastError, type ComfyVast } from '@comfy-vast/core';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type pino from 'pino';
import { admit, registerAdmission } from './http/admit.js';
import { clientErrorResponse } from './http/client-error.js';
import { registerJsonParser } from './http/json-parser.js';
import { requestLogger, requestLoggingOff } from './http/request-logger.js';
import { noRoute } from './http/no-route.js';
import { errorSender } from './http/send-error.js';
import { registerWebSocketRoutes } from './http/websocket-routes.js';
import { registerRoutes } from './routes/index.js';
import { connectGenerationTopic } from './ws/generation-topic.js';
import { connectServerTopic } from './ws/server-topic.js';
import { connectExecutionTopic } from './ws/execution-topic.js';
import { connectDownloadTopic } from './ws/download-topic.js';
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
/** How long after its last answer during shutdown a connection may still bring a pipelined request (real time: it is the network's). */
const LAST_ANSWER_MS = 1000;
const RETRY_AFTER_SHUTDOWN_S = 5;
/** Longer than any parameter the contract accepts, so the contract's own limits name the field at fault. */
const MAX_PARAM_LENGTH = 256;

/** The HTTP and WebSocket API over a ComfyVast instance. Listening is the caller's. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { comfyVast } = options;
  const now = () => new Date(comfyVast.clock.now());
  const sendError = errorSender(now);

  const fastify = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    childLoggerFactory: requestLogger,
    logController: new LogController({ disableRequestLogging: requestLoggingOff(options.logger) }),
    bodyLimit: ONE_MIB,
    // Requests that arrive on an open connection while closing get the standard body (see refuseWhileClosing).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // URLs the router cannot decode never reach the hooks; the caller is still authenticated first.
    frameworkErrors: (error, request, reply) => admit(comfyVast, request, reply, (refusal) => void sendError(refusal ?? error, request, reply)),
    clientErrorHandler: (error, socket) => {
      if (error.code !== 'ECONNRESET' && socket.writable) socket.write(clientErrorResponse(error, now()));
      socket.destroy();
    },
  });
  registerJsonParser(fastify);
  // First, so that a request refused while closing still counts as in flight until its answer is out.
  endKeptConnections(fastify);
  refuseWhileClosing(fastify);
  const hub = new WebSocketHub({ users: comfyVast.users, logger: options.logger.child({ component: 'ws' }), apiLimiter: comfyVast.limiters.api, clock: comfyVast.clock });
  // Before admission, which needs to know an upgrade when it sees one.
  await registerWebSocketRoutes(fastify, hub);
  // Auth runs before routing's 404 too, so an anonymous caller cannot map which paths exist.
  registerAdmission(fastify, comfyVast);

  fastify.setErrorHandler(sendError);
  fastify.setNotFoundHandler((request) => {
    throw noRoute(request);
  });

  connectGenerationTopic(hub, comfyVast);
  connectServerTopic(hub, comfyVast);
  connectExecutionTopic(hub, comfyVast);
  connectDownloadTopic(hub, comfyVast);
  registerRoutes({ fastify, comfyVast, hub, provider: options.provider, version: options.version });
  await fastify.ready();
  return { fastify, hub };
}

/**
 * Shutdown ends the kept-alive connections that have no request in flight. fastify's `forceCloseConnections: 'idle'`
 * leaves one open whose last response was a stream (an image), as Node does not count it idle, and closing then
 * waited for the client's keep-alive to lapse (72 s). A connection answering when shutdown begins is left to Node,
 * which ends it after its answers (a request pipelined behind gets its turn), and looked at again a moment later.
 */
function endKeptConnections(fastify: FastifyInstance): void {
  /** Requests in flight per connection that has carried HTTP requests (an upgraded one belongs to the hub). */
  const connections = new Map<Socket, number>();
  let closing = false;
  const endIfIdle = (socket: Socket) => {
    if (connections.get(socket) === 0) socket.destroy();
  };
  const settle = (request: FastifyRequest) => {
    const socket = request.raw.socket;
    const count = connections.get(socket);
    if (count === undefined) return;
    connections.set(socket, count - 1);
    if (closing) setTimeout(() => endIfIdle(socket), LAST_ANSWER_MS).unref();
  };
  fastify.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket;
    // Only connections of the network: `inject()` answers on a stand-in with no connection to end.
    if (socket instanceof Socket && request.raw.headers.upgrade === undefined) {
      if (!connections.has(socket)) socket.once('close', () => connections.delete(socket));
      connections.set(socket, (connections.get(socket) ?? 0) + 1);
    }
    done();
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    settle(request);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    settle(request);
    done();
  });
  fastify.addHook('preClose', async () => {
    closing = true;
    for (const socket of connections.keys()) endIfIdle(socket);
  });
}

/** Once shutdown begins, what still arrives on an open connection is refused in the standard body, and the connection ends. */
function refuseWhileClosing(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: every request passes here, and a promise each is measurable.
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('Connection', 'close');
    done(new ComfyVastError('SERVICE_UNAVAILABLE', 'The server is shutting down; try again in a moment', { details: { retryAfter: RETRY_AFTER_SHUTDOWN_S } }));
  });
}
