import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { toExecutionLog, toResetResponse, toServerExecution, toStartupResponse } from '../wire/setup.js';
import type { RouteContext } from './context.js';

export function registerSetupRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.startSetup, async ({ user, params }) => toStartupResponse(await comfyVast.startSetup(user.id, params.serverId)));
  route(fastify, contract.listExecutions, ({ user, params }) => comfyVast.listExecutions(user.id, params.serverId).map(toServerExecution));
  route(fastify, contract.getExecutionLog, ({ user, params }) => toExecutionLog(comfyVast.getExecutionLog(user.id, params.serverId, params.executionId)));
  route(fastify, contract.resetSetup, async ({ user, params, body }) => toResetResponse(await comfyVast.resetSetup(user.id, params.serverId, body)));
}
