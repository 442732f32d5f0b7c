import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

export function registerVastServerRoutes({ fastify, comfyVast }: RouteContext): void {
  const { servers } = comfyVast;
  route(fastify, contract.createServer, ({ user, body }) => servers.create(user.id, body));
  route(fastify, contract.listServers, ({ user }) => servers.list(user.id));
  route(fastify, contract.getServer, ({ user, params }) => servers.get(user.id, params.id));
  route(fastify, contract.startServer, ({ user, params }) => servers.start(user.id, params.id));
  route(fastify, contract.stopServer, ({ user, params }) => servers.stop(user.id, params.id));
  route(fastify, contract.deleteServer, ({ user, params }) => servers.delete(user.id, params.id));
  route(fastify, contract.listOffers, ({ query }) => servers.findOffers(query));
}
