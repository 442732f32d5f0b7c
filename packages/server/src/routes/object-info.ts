import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

export function registerObjectInfoRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.getObjectInfo, ({ user, params }) => comfyVast.getObjectInfo(user.id, params.serverId));
}
