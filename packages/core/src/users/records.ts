import { z } from 'zod';
import { defineCollection } from '../store/store.js';

export const UserRole = z.enum(['admin', 'user']);
export type UserRole = z.infer<typeof UserRole>;

export const Username = z
  .string()
  .trim()
  .min(1, 'username must not be empty')
  .max(64, 'username must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'username may hold letters, digits, "_", "." and "-" only');

export const UserRecord = z.object({
  id: z.number().int(),
  username: Username,
  role: UserRole,
  createdAt: z.string(),
});
export type UserRecord = z.infer<typeof UserRecord>;

export const TokenRecord = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  /** sha256 of the token, hex. The token itself is never stored. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Tokens that came from COMFY_VAST_ADMIN_TOKEN are replaced when that setting changes. */
  source: z.enum(['issued', 'configured']),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type TokenRecord = z.infer<typeof TokenRecord>;

export const usersCollection = defineCollection({ name: 'users', schema: UserRecord });
export const tokensCollection = defineCollection({ name: 'tokens', schema: TokenRecord });
