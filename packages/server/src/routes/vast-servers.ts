import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

export function registerVastServerRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.createServer, ({ user, body }) => comfyVast.createServer(user.id, body));
  route(fastify, contract.listServers, ({ user }) => comfyVast.listServers(user.id));
  route(fastify, contract.getServer, ({ user, params }) => comfyVast.getServer(user.id, params.id));
  route(fastify, contract.startServer, ({ user, params }) => comfyVast.startServer(user.id, params.id));
  route(fastify, contract.stopServer, ({ user, params }) => comfyVast.stopServer(user.id, params.id));
  route(fastify, contract.deleteServer, ({ user, params }) => comfyVast.deleteServer(user.id, params.id));
  route(fastify, contract.listOffers, ({ query }) => comfyVast.findOffers(query));
}
