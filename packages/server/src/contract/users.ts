import { z } from 'zod';
import { Id, IsoDate } from './common.js';
import { defineEndpoint } from './endpoint.js';

const TokenInfo = z.object({ id: z.number(), source: z.enum(['issued', 'configured']), createdAt: IsoDate, lastUsedAt: IsoDate.nullable() });

/** The library checks a new name again, and that nobody has it yet. */
const Username = z
  .string()
  .trim()
  .min(1, 'username must not be empty')
  .max(64, 'username must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'username may hold letters, digits, "_", "." and "-" only');

export const User = z.object({
  id: z.number(),
  username: z.string(),
  role: z.enum(['admin', 'user']),
  createdAt: IsoDate,
});

export const usersEndpoints = {
  createUser: defineEndpoint({
    method: 'POST',
    path: '/users',
    summary: 'Create a user (admin only); the answer holds its first token, shown this once',
    tag: 'Users',
    auth: 'admin',
    body: z.object({ username: Username }),
    response: z.object({ id: z.number(), username: z.string(), token: z.string() }),
    status: 201,
  }),
  listUsers: defineEndpoint({
    method: 'GET',
    path: '/users',
    summary: 'List users (admin only)',
    tag: 'Users',
    auth: 'admin',
    response: z.array(User),
  }),
  me: defineEndpoint({
    method: 'GET',
    path: '/users/me',
    summary: 'The calling user and its tokens (never their values)',
    tag: 'Users',
    auth: 'user',
    response: User.extend({ tokens: z.array(TokenInfo) }),
  }),
  createToken: defineEndpoint({
    method: 'POST',
    path: '/users/me/tokens',
    summary: 'Issue another token for the calling user, shown this once',
    tag: 'Users',
    auth: 'user',
    response: z.object({ id: z.number(), token: z.string(), createdAt: IsoDate }),
    status: 201,
  }),
  revokeToken: defineEndpoint({
    method: 'DELETE',
    path: '/users/me/tokens/:id',
    summary: 'Revoke one of the calling user’s tokens',
    tag: 'Users',
    auth: 'user',
    params: z.object({ id: Id }),
    response: z.object({ success: z.literal(true), message: z.string() }),
  }),
};

export const BudgetStatus = z.object({
  userId: z.number(),
  monthlyLimit: z.number().nullable(),
  month: z.string(),
  spent: z.number(),
  remaining: z.number().nullable(),
  level: z.enum(['ok', 'warning', 'exceeded']),
});

export const budgetEndpoints = {
  getBudget: defineEndpoint({
    method: 'GET',
    path: '/users/:id/budget',
    summary: 'A user’s monthly budget and this month’s spending (the user or an admin)',
    tag: 'Users',
    auth: 'user',
    params: z.object({ id: Id }),
    response: BudgetStatus,
  }),
  setBudget: defineEndpoint({
    method: 'PUT',
    path: '/users/:id/budget',
    summary: 'Set a user’s monthly budget in dollars, or null to remove it (admin only)',
    tag: 'Users',
    auth: 'admin',
    params: z.object({ id: Id }),
    body: z.object({ monthlyLimit: z.number().nullable() }),
    response: BudgetStatus,
  }),
};
