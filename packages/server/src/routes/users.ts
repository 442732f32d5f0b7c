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

  route(fastify, contract.getBudget, ({ user, params }) => comfyVast.getBudget(user, params.id));
  route(fastify, contract.setBudget, ({ params, body }) => comfyVast.setBudget(params.id, body.monthlyLimit));

  route(fastify, contract.revokeToken, async ({ user, params }) => {
    await users.revokeToken(user.id, params.id);
    return { success: true as const, message: 'Token revoked' };
  });
}
