import type { ComfyVast } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

/** The caller's server as the scheduler sees it; another user's is SERVER_NOT_FOUND. */
function ownServer(comfyVast: ComfyVast, userId: number, serverId: number) {
  const server = comfyVast.servers.get(userId, serverId);
  return { id: server.id, name: server.name, status: server.status, userId };
}

export function registerSchedulerRoutes({ fastify, comfyVast }: RouteContext): void {
  const { schedules, scheduler } = comfyVast;

  route(fastify, contract.getSchedule, ({ user, params }) => schedules.view(ownServer(comfyVast, user.id, params.serverId)));
  route(fastify, contract.updateScheduleStart, ({ user, params, body }) => schedules.update(ownServer(comfyVast, user.id, params.serverId), 'start', body));
  route(fastify, contract.updateScheduleStop, ({ user, params, body }) => schedules.update(ownServer(comfyVast, user.id, params.serverId), 'stop', body));
  route(fastify, contract.scheduleHistory, ({ user, params, query, reply }) => {
    ownServer(comfyVast, user.id, params.serverId);
    const page = scheduler.history.list(params.serverId, { limit: query.limit, cursor: query.cursor });
    if (page.nextCursor !== null) reply.header('X-Next-Cursor', String(page.nextCursor));
    return page.items;
  });
}
