import { ComfyVastError, type UserRecord, type UserService } from '@comfy-vast/core';

declare module 'fastify' {
  interface FastifyRequest {
    user: UserRecord | null;
  }
}

/** The bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Resolves the caller from the token it sent, or null when it sent none; every failure is the same 401, whatever the reason. */
export function authenticate(users: UserService, token: string | null): UserRecord {
  const user = token ? users.authenticate(token) : null;
  if (!user) {
    throw new ComfyVastError('UNAUTHORIZED', 'Send a valid API token as "Authorization: Bearer <token>"', {
      details: { reason: token ? 'unknown or revoked token' : 'no token' },
    });
  }
  return user;
}

export function requireAdmin(user: UserRecord): void {
  if (user.role !== 'admin') throw new ComfyVastError('FORBIDDEN', 'Only an admin may do this', { details: { role: user.role } });
}
