import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

export function registerVastServerRoutes({ fastify, comfyVast }: RouteContext): void {
  const { servers } = comfyVast;
  route(fastify, contract.createServer, async ({ user, body }) => comfyVast.describeServer(await comfyVast.createServer(user.id, body)));
  route(fastify, contract.listServers, ({ user }) => servers.list(user.id).map((s) => comfyVast.describeServer(s)));
  route(fastify, contract.getServer, ({ user, params }) => comfyVast.describeServer(servers.get(user.id, params.id)));
  route(fastify, contract.startServer, ({ user, params }) => comfyVast.startServer(user.id, params.id));
  route(fastify, contract.stopServer, ({ user, params }) => servers.stop(user.id, params.id));
  route(fastify, contract.deleteServer, ({ user, params }) => comfyVast.deleteServer(user.id, params.id));
  route(fastify, contract.listOffers, ({ query }) => servers.findOffers(query));
}
