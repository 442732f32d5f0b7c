import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from './error-body.js';

/** The error handler of the API: anything thrown answers the standard error body, and a failure of ours is logged. */
export function errorSender(now: () => Date) {
  return function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const { status, body } = toErrorBody(error, now());
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  };
}
