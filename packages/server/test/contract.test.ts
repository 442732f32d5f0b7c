import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, type Endpoint } from '../src/contract/index.js';
import { FIELD_LIMITS } from '../src/contract/limits.js';
import { buildOpenApi } from '../src/openapi.js';
import { raw, startTestServer, startWithAlice, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.stop());

const endpoints = Object.entries(contract) as Array<[string, Endpoint]>;

/** A request of the API reference: each request line of its ```http blocks, with the block's JSON body when it has one. */
interface SpecRequest {
  method: string;
  path: string;
  body: unknown;
}

/**
 * The API reference beside the checkout when there is one; the copy kept with these tests otherwise (a clone on its
 * own). A test below fails when the two differ, so the copy cannot drift.
 */
const referenceUrl = new URL('../../../../shared/spec/api.md', import.meta.url);
const copyUrl = new URL('./fixtures/spec-api.md', import.meta.url);
const reference = readFileSync(existsSync(referenceUrl) ? referenceUrl : copyUrl, 'utf8');

// The list comes from the API reference itself, so an endpoint it documents cannot go missing unnoticed.
const specRequests: SpecRequest[] = [...reference.matchAll(/```http\n([\s\S]*?)```/g)].flatMap(([, block]) => {
  const [head = '', text = ''] = block!.split(/\n\s*\n/, 2);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // No body, or an example that elides parts of it (`[...]`): sent without one.
  }
  return [...head.matchAll(/^(GET|POST|PUT|PATCH|DELETE) (\/\S*)$/gm)].map(([, method, path]) => ({ method: method!, path: path!, body }));
});

/** A path with its parameters unnamed: the reference and the contract may name them differently. */
const shapeOf = (path: string) => path.replace(/\{\w+\}/g, '{}');

describe('the contract', () => {
  it.runIf(existsSync(referenceUrl))('keeps its copy of the API reference identical to the reference', () => {
    expect(readFileSync(copyUrl, 'utf8')).toBe(reference);
  });

  it.each(endpoints)('%s has a route and an OpenAPI operation', (name, endpoint) => {
    expect(server.app.fastify.hasRoute({ method: endpoint.method, url: `/api${endpoint.path}` })).toBe(true);
    const doc = buildOpenApi('0.0.0') as { paths: Record<string, Record<string, { operationId: string }>> };
    const path = `/api${endpoint.path.replace(/:(\w+)/g, '{$1}')}`;
    expect(doc.paths[path]?.[endpoint.method.toLowerCase()]?.operationId).toBe(name);
  });

  it('serves every request of the API reference, as its http blocks write them', () => {
    expect(specRequests.length).toBeGreaterThanOrEqual(20);
    const served = new Set(endpoints.map(([, e]) => `${e.method} ${shapeOf(e.path.replace(/:(\w+)/g, '{$1}'))}`));
    const missing = specRequests.filter((r) => !served.has(`${r.method} ${shapeOf(r.path)}`)).map((r) => `${r.method} ${r.path}`);
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

describe('the API reference against a running server', () => {
  it('answers every request of the reference with something other than 404, with real resources behind each id', async () => {
    const world = await startWithAlice();
    try {
      const ids: Record<string, number> = { serverId: world.serverId };
      // Stopping and deleting come last, so that every other request finds the server running.
      const destructive = (r: SpecRequest) => r.method === 'DELETE' || r.path.startsWith('/vast-servers/stop/');
      const ordered = [...specRequests.filter((r) => !destructive(r)), ...specRequests.filter(destructive)];
      const answers: string[] = [];
      for (const request of ordered) {
        const path = request.path.replace(/\{(\w+)\}/g, (_, name: string) => String(ids[name] ?? 1));
        const body = request.body === undefined ? undefined : JSON.stringify(request.body);
        const answer = await raw(world.server, `/api${path}`, { method: request.method, token: world.aliceToken, headers: { 'Content-Type': 'application/json' }, body });
        // Ids the answers carry (a generation, a download, an execution) stand behind the requests that follow.
        for (const key of ['generationId', 'downloadId', 'executionId'] as const) if (typeof answer.body?.[key] === 'number') ids[key] = answer.body[key];
        answers.push(`${request.method} ${request.path} -> ${answer.status} ${answer.body?.code ?? ''}`);
      }
      expect(answers.filter((a) => / -> 404 /.test(a))).toEqual([]);
    } finally {
      await world.server.stop();
    }
  }, 120_000);
});
