import { parseOrThrow, type UserRecord } from '@comfy-vast/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Endpoint, EndpointOutput, ParsedInput } from '../contract/index.js';
import { requireAdmin } from './auth.js';

export interface HandlerContext<E extends Endpoint> extends ParsedInput<E> {
  /** The caller; endpoints without auth get null. */
  user: E['auth'] extends 'none' ? null : UserRecord;
  request: FastifyRequest;
  reply: FastifyReply;
}

export type Handler<E extends Endpoint> = (context: HandlerContext<E>) => Promise<EndpointOutput<E> | BinaryReply> | EndpointOutput<E> | BinaryReply;

/** A file answer: the route sets the type and length, the body streams. */
export interface BinaryReply {
  binary: true;
  contentType: string;
  body: NodeJS.ReadableStream | Buffer;
  length?: number;
  etag?: string;
}

/**
 * Registers one endpoint of the contract: parses params, query and body with its schemas (a failure is a
 * VALIDATION_ERROR naming the field), checks the role, and sends the handler's answer with its status.
 */
export function route<E extends Endpoint>(app: FastifyInstance, endpoint: E, handler: Handler<E>): void {
  app.route({
    method: endpoint.method,
    url: `/api${endpoint.path}`,
    config: { auth: endpoint.auth },
    // Not an async function: a handler that answers at once (most reads) then costs no promise.
    handler: (request, reply) => {
      if (endpoint.auth === 'admin') requireAdmin(request.user!);
      const result = handler({
        params: endpoint.params ? parseOrThrow(endpoint.params, request.params, 'path parameter') : {},
        query: endpoint.query ? parseOrThrow(endpoint.query, request.query, 'query parameter') : {},
        body: endpoint.body ? parseOrThrow(endpoint.body, request.body ?? {}, 'request body') : undefined,
        user: request.user as HandlerContext<E>['user'],
        request,
        reply,
      } as HandlerContext<E>);
      const status = endpoint.status ?? 200;
      return isPromise(result) ? result.then((answer) => send(reply, status, answer)) : send(reply, status, result);
    },
  });
}

function send(reply: FastifyReply, status: number, result: unknown): FastifyReply {
  if (isBinary(result)) {
    reply.type(result.contentType);
    if (result.length !== undefined) reply.header('Content-Length', result.length);
    if (result.etag) reply.header('ETag', result.etag);
    return reply.send(result.body);
  }
  return reply.code(status).send(result);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Promise<unknown>).then === 'function';
}

function isBinary(value: unknown): value is BinaryReply {
  return typeof value === 'object' && value !== null && (value as BinaryReply).binary === true;
}
