import { ComfyVastError } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

export function registerUserRoutes({ fastify, comfyVast }: RouteContext): void {
  const { users } = comfyVast;

  route(fastify, contract.createUser, async ({ body }) => {
    const { user, token } = await users.createUser(body.username);
    return { id: user.id, username: user.username, token: token.token };
  });

  route(fastify, contract.listUsers, () => users.listUsers());

  route(fastify, contract.me, ({ user }) => ({ ...user, tokens: users.listTokens(user.id) }));

  route(fastify, contract.createToken, ({ user }) => users.issueToken(user.id));

  route(fastify, contract.getBudget, ({ user, params }) => {
    // A user sees their own budget; another user's is as missing as an unknown one, unless the caller is an admin.
    if ((user.role !== 'admin' && params.id !== user.id) || !users.getUser(params.id)) {
      throw new ComfyVastError('NOT_FOUND', `User ${params.id} not found`, { details: { userId: params.id } });
    }
    return comfyVast.budgets.status(params.id);
  });

  route(fastify, contract.setBudget, ({ params, body }) => {
    if (!users.getUser(params.id)) throw new ComfyVastError('NOT_FOUND', `User ${params.id} not found`, { details: { userId: params.id } });
    return comfyVast.budgets.setBudget(params.id, body.monthlyLimit);
  });

  route(fastify, contract.revokeToken, async ({ user, params }) => {
    await users.revokeToken(user.id, params.id);
    return { success: true as const, message: 'Token revoked' };
  });
}
