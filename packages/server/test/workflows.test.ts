import { BUILTIN_WORKFLOWS } from '@comfy-vast/core';
import type { ApiClient } from '@comfy-vast/server/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startWithAlice, type TestServer } from './helpers.js';

let server: TestServer;
let alice: ApiClient;
let aliceToken: string;
let serverId: number;
const sdxl = BUILTIN_WORKFLOWS.find((w) => w.id === 1)!.workflow;

beforeAll(async () => {
  ({ server, alice, aliceToken, serverId } = await startWithAlice());
}, 60_000);
afterAll(async () => server.stop());

describe('workflow library', () => {
  it('lists the built-ins with workflow 1 as the SDXL text-to-image, and what the server lacks', async () => {
    const list = await alice.listWorkflows({ params: { serverId } });
    expect(list[0]).toMatchObject({ id: 1, name: 'Text to Image - SDXL', builtin: true, workflow: { nodes: expect.any(Array), links: expect.any(Array) } });
    expect(list[0]!.requiredModels).toContain('sd_xl_base_1.0.safetensors');
    expect(list.length).toBeGreaterThanOrEqual(4);
    for (const item of list) expect(Array.isArray(item.missingModels)).toBe(true);
  });

  it('saves, reads, replaces and deletes a user workflow, keeping it from other users', async () => {
    const created = await alice.createWorkflow({ body: { name: 'Mine', description: 'a copy', workflow: sdxl as Record<string, unknown>, tags: ['custom'] } });
    expect(created).toEqual({ id: expect.any(Number), name: 'Mine', message: 'Workflow created successfully' });
    const read = await alice.getWorkflow({ params: { id: created.id } });
    expect(read).toMatchObject({ name: 'Mine', tags: ['custom'], format: 'ui', builtin: false, requiredModels: expect.arrayContaining(['sd_xl_base_1.0.safetensors']) });

    const bob = await server.admin.createUser({ body: { username: 'bob' } });
    const foreign = await raw(server, `/api/comfy/workflow/${created.id}`, { token: bob.token });
    const missing = await raw(server, '/api/comfy/workflow/99999', { token: bob.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.replace(/\d+/g, 'N')).toBe(missing.body.error.replace(/\d+/g, 'N'));
    expect((await server.client(bob.token).listWorkflows({ params: { serverId: 1 } }).catch((e) => e)).code).toBe('SERVER_NOT_FOUND');

    const replaced = await alice.replaceWorkflow({ params: { id: created.id }, body: { name: 'Renamed', workflow: sdxl as Record<string, unknown> } });
    expect(replaced.name).toBe('Renamed');
    await alice.deleteWorkflow({ params: { id: created.id } });
    expect((await raw(server, `/api/comfy/workflow/${created.id}`, { token: aliceToken })).status).toBe(404);
  });

  it('keeps each user to 500 saved workflows, answering the next one 409 QUOTA_EXCEEDED', async () => {
    const carol = await server.admin.createUser({ body: { username: 'carol' } });
    const body = JSON.stringify({ name: 'small', workflow: sdxl });
    const create = (token: string) => raw(server, '/api/comfy/workflows', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body });
    for (let batch = 0; batch < 500; batch += 25) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => create(carol.token)));
      expect(answers.map((a) => a.status)).toEqual(Array(25).fill(200));
    }
    const refused = await create(carol.token);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: expect.stringMatching(/at most 500 saved workflows/), code: 'QUOTA_EXCEEDED', details: { quota: 'count', limit: 500, used: 500 }, timestamp: expect.any(String) });
    // Another user's quota is untouched.
    expect((await create(aliceToken)).status).toBe(200);
  }, 60_000);

  it('refuses to change a built-in and refuses a body that is not a workflow', async () => {
    const builtin = await raw(server, '/api/comfy/workflow/1', { method: 'PUT', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', workflow: sdxl }) });
    expect(builtin.status).toBe(403);
    const invalid = await raw(server, '/api/comfy/workflows', { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', workflow: { hello: 'world' } }) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('WORKFLOW_INVALID');
  });
});

describe('conversion and analysis', () => {
  it('converts the UI format to an API prompt, with bundled definitions and with the server’s', async () => {
    for (const result of [await alice.convertWorkflowOffline({ body: { workflow: sdxl as Record<string, unknown> } }), await alice.convertWorkflow({ params: { serverId }, body: { workflow: sdxl as Record<string, unknown> } })]) {
      const types = Object.values(result.prompt).map((n) => (n as { class_type: string }).class_type);
      expect(types).toEqual(expect.arrayContaining(['CheckpointLoaderSimple', 'CLIPTextEncode', 'KSampler', 'EmptyLatentImage', 'VAEDecode', 'SaveImage']));
    }
  });

  it('analyzes offline and against the server, shaped as the reference', async () => {
    const offline = await alice.analyzeWorkflowOffline({ body: { workflow: sdxl as Record<string, unknown> } });
    expect(offline).toMatchObject({ analysisId: expect.any(Number), complexity: expect.stringMatching(/low|medium|high/), estimatedGenerationTime: expect.any(String), checkedAgainstServer: false });
    expect(offline.requiredModels.map((m) => m.name)).toContain('sd_xl_base_1.0.safetensors');

    const online = await alice.analyzeWorkflow({ params: { serverId }, body: { workflow: sdxl as Record<string, unknown> } });
    expect(online.checkedAgainstServer).toBe(true);
    expect(online.analysisId).toBeGreaterThan(offline.analysisId);
  });
});
