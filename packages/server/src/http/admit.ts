import { apiLimitKey, rateLimitError, type ComfyVast } from '@comfy-vast/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from './auth.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';

/**
 * Lets an authenticated request in and counts it against its user's API limit. Runs before routing, body
 * parsing and the framework's own errors, so an anonymous caller learns nothing but 401 about any path.
 */
export function admit(comfyVast: ComfyVast, request: FastifyRequest, reply: FastifyReply): void {
  request.user = authenticate(comfyVast.users, request);
  const result = comfyVast.limiters.api.consume(apiLimitKey(request.user.id));
  setRateLimitHeaders(reply, result);
  if (!result.allowed) throw rateLimitError(result, 'requests');
}
