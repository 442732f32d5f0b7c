import type { Clock, SlidingWindowLimiter, UserService } from '@comfy-vast/core';
import Fastify from 'fastify';
import { registerAdmission } from '../src/http/admit.js';
import { errorSender } from '../src/http/send-error.js';
import { registerWebSocketRoutes } from '../src/http/websocket-routes.js';
import type { WebSocketHub } from '../src/ws/hub.js';

/**
 * A hub behind the API's own upgrade path (its routes, admission and error answers) on a loopback port, without
 * the rest of the server: tests set the hub's limits and clock themselves. Closing it closes the hub.
 */
export async function serveHub(hub: WebSocketHub, gate: { users: UserService; apiLimiter: SlidingWindowLimiter; clock: Clock }) {
  const fastify = Fastify();
  fastify.setErrorHandler(errorSender(() => new Date(gate.clock.now())));
  await registerWebSocketRoutes(fastify, hub);
  registerAdmission(fastify, { users: gate.users, limiters: { api: gate.apiLimiter } });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const { port } = fastify.server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, close: () => fastify.close() };
}
