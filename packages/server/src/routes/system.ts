import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { buildOpenApi } from '../openapi.js';
import type { RouteContext } from './context.js';

export function registerSystemRoutes({ fastify, provider, version }: RouteContext): void {
  const document = buildOpenApi(version);
  route(fastify, contract.health, () => ({ status: 'ok' as const, version, provider }));
  route(fastify, contract.openapi, () => document);
}
