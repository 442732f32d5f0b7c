import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';

export const healthEndpoints = {
  health: defineEndpoint({
    method: 'GET',
    path: '/health',
    summary: 'Liveness: answers without authentication',
    tag: 'System',
    auth: 'none',
    response: z.object({ status: z.literal('ok'), version: z.string(), provider: z.enum(['vast', 'simulated']) }),
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
