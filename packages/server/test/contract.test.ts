import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, type Endpoint } from '../src/contract/index.js';
import { FIELD_LIMITS } from '../src/contract/limits.js';
import { buildOpenApi } from '../src/openapi.js';
import { startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.stop());

const endpoints = Object.entries(contract) as Array<[string, Endpoint]>;

describe('the contract', () => {
  it.each(endpoints)('%s has a route and an OpenAPI operation', (name, endpoint) => {
    expect(server.app.fastify.hasRoute({ method: endpoint.method, url: `/api${endpoint.path}` })).toBe(true);
    const doc = buildOpenApi('0.0.0') as { paths: Record<string, Record<string, { operationId: string }>> };
    const path = `/api${endpoint.path.replace(/:(\w+)/g, '{$1}')}`;
    expect(doc.paths[path]?.[endpoint.method.toLowerCase()]?.operationId).toBe(name);
  });

  it('keeps every documented path of the API reference', () => {
    const documented = [
      'POST /vast-servers',
      'GET /vast-servers',
      'POST /vast-servers/start/:id',
      'POST /vast-servers/stop/:id',
      'DELETE /vast-servers/:id',
      'POST /comfy/:serverId/generate',
      'GET /comfy/progress/:generationId',
      'GET /comfy/progress',
      'GET /comfy/generations/:serverId',
      'GET /comfy/workflows/:serverId',
      'POST /comfy/workflows',
      'POST /comfy/analyze-workflow/:serverId',
      'GET /server-scheduler/:serverId',
      'POST /server-scheduler/:serverId/start',
      'POST /server-scheduler/:serverId/stop',
    ];
    const served = new Set(endpoints.map(([, e]) => `${e.method} ${e.path}`));
    const missing = documented.filter((d) => !served.has(d));
    expect(missing).toEqual([]);
  });

  it.each(endpoints)('%s validates each of its path parameters through the contract', (_name, endpoint) => {
    const names = [...endpoint.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    expect(Object.keys(endpoint.params?.shape ?? {}).sort()).toEqual(names.sort());
  });

  it('publishes the field limits in the OpenAPI document', () => {
    const doc = buildOpenApi('0.0.0') as any;
    const body = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema;
    expect(body('/api/comfy/workflows', 'post').properties.name.maxLength).toBe(FIELD_LIMITS.nameChars);
    expect(body('/api/comfy/{serverId}/generate', 'post').properties.prompt.maxLength).toBe(FIELD_LIMITS.promptChars);
    expect(body('/api/comfy/{serverId}/generate', 'post').properties.negativePrompt.maxLength).toBe(FIELD_LIMITS.promptChars);
    const gpu = doc.paths['/api/vast-offers'].get.parameters.find((p: { name: string }) => p.name === 'gpu');
    expect(gpu.schema.maxLength).toBe(64);
  });
});
