import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from './error-body.js';

/**
 * The error handler of the API: anything thrown answers the standard error body, and a failure of ours is logged.
 * A refusal that says when to come back (`details.retryAfter`, in seconds: a spent limit, a shutdown) says it in
 * Retry-After too, unless the route has set it more precisely.
 */
export function errorSender(now: () => Date) {
  return function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const { status, body } = toErrorBody(error, now());
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const retryAfter = Number(body.details.retryAfter);
    if ((status === 429 || status === 503) && retryAfter > 0 && !reply.hasHeader('Retry-After')) reply.header('Retry-After', Math.ceil(retryAfter));
    return reply.code(status).send(body);
  };
}
