import { apiLimitKey, rateLimitError, type SlidingWindowLimiter, type UserService } from '@comfy-vast/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, bearerToken } from './auth.js';
import { noRoute } from './no-route.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';

/** Who the tokens belong to and the API limit their requests spend (the facade is one). */
export interface Gate {
  users: UserService;
  limiters: { api: SlidingWindowLimiter };
}

/**
 * How a route is entered, from its config: `none` by anyone, `user` and `admin` with a Bearer token, `upgrade` by
 * the WebSocket's upgrade (see admitUpgrade). Routes without it need a user.
 */
export type RouteAuth = 'none' | 'user' | 'admin' | 'upgrade';

/**
 * Lets an authenticated request in and counts it against its user's API limit. Runs before routing, body
 * parsing and the framework's own errors, so an anonymous caller learns nothing but 401 about any path.
 */
export function admit(gate: Gate, request: FastifyRequest, reply: FastifyReply): void {
  admitToken(gate, request, reply, bearerToken(request.headers.authorization));
}

/**
 * A WebSocket upgrade may carry its token in the query too (a browser cannot set headers on one), or no token at
 * all: it then goes in anonymous, to authenticate by its first message within the hub's own limits.
 */
export function admitUpgrade(gate: Gate, request: FastifyRequest, reply: FastifyReply): void {
  const token = queryToken(request) ?? bearerToken(request.headers.authorization);
  if (token !== null) admitToken(gate, request, reply, token);
}

/**
 * Admits every request, upgrades included, before anything else of its own runs. Register it after the WebSocket
 * plugin, whose own hook marks upgrade requests (`request.ws`). Only the WebSocket routes upgrade.
 */
export function registerAdmission(fastify: FastifyInstance, gate: Gate): void {
  fastify.decorateRequest('user', null);
  // A callback hook, not an async one: every request passes here, and a promise each is measurable.
  fastify.addHook('onRequest', (request, reply, done) => {
    try {
      admitRequest(gate, request, reply);
    } catch (refusal) {
      return done(refusal as Error);
    }
    done();
  });
}

function admitRequest(gate: Gate, request: FastifyRequest, reply: FastifyReply): void {
  const auth = (request.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth ?? 'user';
  if (request.ws && auth === 'upgrade') return admitUpgrade(gate, request, reply);
  if (auth !== 'none') admit(gate, request, reply);
  if (request.ws) throw noRoute(request);
}

function admitToken(gate: Gate, request: FastifyRequest, reply: FastifyReply, token: string | null): void {
  request.user = authenticate(gate.users, token);
  const result = gate.limiters.api.consume(apiLimitKey(request.user.id));
  setRateLimitHeaders(reply, result);
  if (!result.allowed) throw rateLimitError(result, 'requests');
}

/** The first `token` of the query; an empty one is none. */
function queryToken(request: FastifyRequest): string | null {
  const value = (request.query as Record<string, string | string[] | undefined> | undefined)?.token;
  return (Array.isArray(value) ? value[0] : value) || null;
}
