import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

export function registerSchedulerRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.getSchedule, ({ user, params }) => comfyVast.getSchedule(user.id, params.serverId));
  route(fastify, contract.updateScheduleStart, ({ user, params, body }) => comfyVast.updateSchedule(user.id, params.serverId, 'start', body));
  route(fastify, contract.updateScheduleStop, ({ user, params, body }) => comfyVast.updateSchedule(user.id, params.serverId, 'stop', body));
  route(fastify, contract.scheduleHistory, ({ user, params, query, reply }) => {
    const page = comfyVast.scheduleHistory(user.id, params.serverId, { limit: query.limit, cursor: query.cursor });
    if (page.nextCursor !== null) reply.header('X-Next-Cursor', String(page.nextCursor));
    return page.items;
  });
}
