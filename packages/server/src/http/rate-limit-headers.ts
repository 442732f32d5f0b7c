import type { RateLimitResult } from '@comfy-vast/core';
import type { FastifyReply } from 'fastify';

/** The IETF RateLimit headers, plus Retry-After on refusal. */
export function setRateLimitHeaders(reply: FastifyReply, result: RateLimitResult): void {
  reply.header('RateLimit-Limit', result.limit);
  reply.header('RateLimit-Remaining', result.remaining);
  reply.header('RateLimit-Reset', Math.ceil(result.resetMs / 1000));
  if (!result.allowed) reply.header('Retry-After', Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
}
