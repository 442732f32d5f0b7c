import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { toWireOffer, toWireServer } from '../wire/servers.js';
import type { RouteContext } from './context.js';

export function registerVastServerRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.createServer, async ({ user, body }) => toWireServer(await comfyVast.createServer(user.id, body)));
  route(fastify, contract.listServers, ({ user }) => comfyVast.listServers(user.id).map(toWireServer));
  route(fastify, contract.getServer, ({ user, params }) => toWireServer(comfyVast.getServer(user.id, params.id)));
  route(fastify, contract.startServer, ({ user, params }) => comfyVast.startServer(user.id, params.id));
  route(fastify, contract.stopServer, ({ user, params }) => comfyVast.stopServer(user.id, params.id));
  route(fastify, contract.deleteServer, ({ user, params }) => comfyVast.deleteServer(user.id, params.id));
  route(fastify, contract.listOffers, async ({ query }) => (await comfyVast.findOffers(query)).map(toWireOffer));
}
