import { ComfyVastError } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import { buildOpenApi } from '../openapi.js';
import { notReady, toHealthWire } from '../wire/health.js';
import type { RouteContext } from './context.js';

/** A load balancer asks again after this; a database or Redis that went away usually takes longer to come back. */
const RETRY_AFTER_S = 5;

export function registerSystemRoutes({ fastify, comfyVast, provider, version }: RouteContext): void {
  const document = buildOpenApi(version);
  route(fastify, contract.health, async () => ({ status: 'ok' as const, version, provider, ...toHealthWire(await comfyVast.health()) }));
  route(fastify, contract.ready, async () => {
    const view = await comfyVast.health();
    const reasons = notReady(view);
    if (reasons.length > 0) {
      throw new ComfyVastError('SERVICE_UNAVAILABLE', `Not ready: ${reasons.join('; ')}`, { details: { ...toHealthWire(view), retryAfter: RETRY_AFTER_S } });
    }
    return { status: 'ready' as const, ...toHealthWire(view) };
  });
  route(fastify, contract.openapi, () => document);
}
