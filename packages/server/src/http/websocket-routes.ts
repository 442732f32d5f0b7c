import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocketHub } from '../ws/hub.js';
import type { RouteAuth } from './admit.js';
import { noRoute } from './no-route.js';

/** Where the WebSocket answers: the contract's `ws://host:port` and `/api/ws`. */
const PATHS = ['/', '/api/ws'];
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Serves the hub's WebSocket through fastify's lifecycle: an upgrade request is routed as any request is, so it is
 * logged, admitted (auth and the API limit, see registerAdmission) and refused with the standard error body before
 * any WebSocket exists. Register it before the admission hook: the plugin's own hook marks upgrade requests.
 * A plain GET on these paths answers as a path without a route.
 */
export async function registerWebSocketRoutes(fastify: FastifyInstance, hub: WebSocketHub): Promise<void> {
  await fastify.register(fastifyWebsocket, {
    options: { maxPayload: MAX_MESSAGE_BYTES },
    errorHandler: (error, socket, request) => {
      request.log.debug({ err: error }, 'WebSocket error');
      socket.terminate();
    },
    // Open sockets would hold the HTTP server's close: the hub ends them, and the close waits until they are gone.
    preClose: (done) => {
      hub.close();
      fastify.websocketServer.close(() => done());
    },
  });
  const config: { auth: RouteAuth } = { auth: 'upgrade' };
  for (const url of PATHS) {
    fastify.route({
      method: 'GET',
      url,
      config,
      // A sync hook: the place is checked here and taken by accept in the same turn (the upgrade itself is
      // synchronous), so a burst of upgrades cannot hold more places than the hub allows.
      preHandler: (request, reply, done) => {
        try {
          if (!request.user) hub.assertRoomToWait(remoteAddress(request));
          done();
        } catch (refusal) {
          done(refusal as Error);
        }
      },
      handler: (request) => {
        throw noRoute(request);
      },
      wsHandler: (socket, request) => hub.accept(socket, request.user?.id ?? null, remoteAddress(request)),
    });
  }
}

function remoteAddress(request: FastifyRequest): string {
  return request.socket.remoteAddress ?? 'unknown';
}
