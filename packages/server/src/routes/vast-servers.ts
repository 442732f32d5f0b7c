import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { DELETION_INITIATED, toWireOffer, toWireServer, toWireTransition } from '../wire/servers.js';
import type { RouteContext } from './context.js';

export function registerVastServerRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.createServer, async ({ user, body }) => toWireServer(await comfyVast.createServer(user.id, body)));
  route(fastify, contract.listServers, ({ user }) => comfyVast.listServers(user.id).map(toWireServer));
  route(fastify, contract.getServer, ({ user, params }) => toWireServer(comfyVast.getServer(user.id, params.id)));
  route(fastify, contract.startServer, async ({ user, params }) => toWireTransition('start', await comfyVast.startServer(user.id, params.id)));
  route(fastify, contract.stopServer, async ({ user, params }) => toWireTransition('stop', await comfyVast.stopServer(user.id, params.id)));
  route(fastify, contract.deleteServer, async ({ user, params }) => {
    await comfyVast.deleteServer(user.id, params.id);
    return DELETION_INITIATED;
  });
  route(fastify, contract.listOffers, async ({ query }) => (await comfyVast.findOffers(query)).map(toWireOffer));
}
