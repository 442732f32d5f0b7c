import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';

/** What holds the records: the data directory (`embedded`) or PostgreSQL; the library alone may run on the others. */
const StoreKind = z.enum(['embedded', 'postgres', 'memory', 'custom']);
/** Whether a service the process depends on answered a check just now (within a second). */
const Reachability = z.enum(['up', 'down']);

const Dependencies = {
  store: StoreKind,
  /** Present when the records are in PostgreSQL. */
  postgres: Reachability.optional(),
  /** Present when the process uses Redis. */
  redis: Reachability.optional(),
  /** With Redis: whether Redis has said which process holds the background lease (the reconciler, scheduler and budget checks). */
  leases: z.enum(['known', 'unknown']).optional(),
  /** With PostgreSQL: whether this process's records follow the others' changes, or catch up after a lost connection. */
  changes: z.enum(['following', 'catching-up']).optional(),
};

export const healthEndpoints = {
  health: defineEndpoint({
    method: 'GET',
    path: '/health',
    summary: 'Liveness: answers without authentication while the process runs, with what holds the records and whether it answers',
    tag: 'System',
    auth: 'none',
    response: z.object({ status: z.literal('ok'), version: z.string(), provider: z.enum(['vast', 'simulated']), ...Dependencies }),
  }),
  ready: defineEndpoint({
    method: 'GET',
    path: '/health/ready',
    summary: 'Readiness, for load balancers: 200 once the store is open and migrated, everything it depends on answers, the leases are known and the records follow the other processes’ changes; 503 otherwise and while shutting down',
    tag: 'System',
    auth: 'none',
    response: z.object({ status: z.literal('ready'), ...Dependencies }),
  }),
  openapi: defineEndpoint({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'System',
    auth: 'user',
    response: z.record(z.string(), z.unknown()),
  }),
};
