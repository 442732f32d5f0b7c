import { apiLimitKey, rateLimitError, type RateLimiter, type RateLimitResult, type UserService } from '@comfy-vast/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, bearerToken } from './auth.js';
import { noRoute } from './no-route.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';

/** Who the tokens belong to and the API limit their requests spend (the facade is one). */
export interface Gate {
  users: UserService;
  limiters: { api: RateLimiter };
}

/**
 * How a route is entered, from its config: `none` by anyone, `user` and `admin` with a Bearer token, `upgrade` by
 * the WebSocket's upgrade (see admitUpgrade). Routes without it need a user.
 */
export type RouteAuth = 'none' | 'user' | 'admin' | 'upgrade';

/**
 * Told how admission ended: with the refusal, or nothing when the request goes on. Called at once when the API
 * limit is this process's own, later when it is shared through Redis.
 */
export type Admitted = (refusal?: Error) => void;

/**
 * Lets an authenticated request in and counts it against its user's API limit. Runs before routing, body
 * parsing and the framework's own errors, so an anonymous caller learns nothing but 401 about any path.
 */
export function admit(gate: Gate, request: FastifyRequest, reply: FastifyReply, done: Admitted): void {
  admitToken(gate, request, reply, bearerToken(request.headers.authorization), done);
}

/**
 * A WebSocket upgrade may carry its token in the query too (a browser cannot set headers on one), or no token at
 * all: it then goes in anonymous, to authenticate by its first message within the hub's own limits.
 */
export function admitUpgrade(gate: Gate, request: FastifyRequest, reply: FastifyReply, done: Admitted): void {
  const token = queryToken(request) ?? bearerToken(request.headers.authorization);
  if (token === null) return done();
  admitToken(gate, request, reply, token, done);
}

/**
 * Admits every request, upgrades included, before anything else of its own runs. Register it after the WebSocket
 * plugin, whose own hook marks upgrade requests (`request.ws`). Only the WebSocket routes upgrade.
 */
export function registerAdmission(fastify: FastifyInstance, gate: Gate): void {
  fastify.decorateRequest('user', null);
  // A callback hook, not an async one: every request passes here, and a promise each is measurable. Only a limit
  // shared through Redis makes a request wait for an answer.
  fastify.addHook('onRequest', (request, reply, done) => admitRequest(gate, request, reply, done));
}

function admitRequest(gate: Gate, request: FastifyRequest, reply: FastifyReply, done: Admitted): void {
  const auth = (request.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth ?? 'user';
  if (request.ws && auth === 'upgrade') return admitUpgrade(gate, request, reply, done);
  // An upgrade on any other route is answered as a path without a route, once its caller is known.
  if (request.ws) return auth === 'none' ? done(noRoute(request)) : admit(gate, request, reply, (refusal) => done(refusal ?? noRoute(request)));
  if (auth === 'none') return done();
  admit(gate, request, reply, done);
}

function admitToken(gate: Gate, request: FastifyRequest, reply: FastifyReply, token: string | null, done: Admitted): void {
  try {
    request.user = authenticate(gate.users, token);
  } catch (refusal) {
    return done(refusal as Error);
  }
  const counted = gate.limiters.api.consume(apiLimitKey(request.user.id));
  // No closure on the local path: it runs for every request.
  if (counted instanceof Promise) counted.then((result) => done(answer(reply, result)), done);
  else done(answer(reply, counted));
}

/** Sets the limit's headers; the refusal when the limit is spent. */
function answer(reply: FastifyReply, result: RateLimitResult): Error | undefined {
  setRateLimitHeaders(reply, result);
  return result.allowed ? undefined : rateLimitError(result, 'requests');
}

/** The first `token` of the query; an empty one is none. */
function queryToken(request: FastifyRequest): string | null {
  const value = (request.query as Record<string, string | string[] | undefined> | undefined)?.token;
  return (Array.isArray(value) ? value[0] : value) || null;
}
