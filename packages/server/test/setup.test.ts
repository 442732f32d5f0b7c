import { SETUP_STEPS } from '@comfy-vast/core';
import { startFakeComfy } from '@comfy-vast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerExecution } from '../src/contract/index.js';
import { raw, startTestServer, until, type TestServer } from './helpers.js';
import { openSocket } from './ws-client.js';

// Setup, its progress and reset on the simulated provider: the fake Vast instance's SSH host runs remote.sh's
// protocol, so every request here goes through the real runner.
let server: TestServer;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100' });
  aliceToken = (await server.admin.createUser({ body: { username: 'alice' } })).token;
  bobToken = (await server.admin.createUser({ body: { username: 'bob' } })).token;
});
afterAll(async () => server.stop());

const api = (path: string, token: string, init: RequestInit = {}) => raw(server, `/api${path}`, { ...init, token });
const post = (path: string, token: string, body?: unknown) =>
  api(path, token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function completed(serverId: number, token: string) {
  return until(
    async () => (await api(`/server-executions/${serverId}`, token)).body as ServerExecution[],
    (executions) => executions[0]?.status !== 'running',
    60_000,
  );
}

describe('the spec’s Complete Generation Workflow, steps 1 to 4', () => {
  it('creates a server, sets ComfyUI up, waits for the setup, and generates', async () => {
    // 1. Create server
    const created = await post('/vast-servers', aliceToken, { name: 'My GPU Server', gpu: 'RTX 4090', gpuCount: 1 });
    expect(created.status).toBe(200);
    const serverId = created.body.id as number;

    // 2. Setup ComfyUI, at once: the setup waits for the server to come up.
    const setup = await api(`/comfy/startup/${serverId}`, aliceToken, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({
      success: true,
      message: 'ComfyUI auto-setup initiated',
      executionId: expect.any(Number),
      estimatedTime: '2-3 minutes',
      steps: SETUP_STEPS,
    });

    // 3. Wait for setup completion, checking each answer against the spec's shape.
    const seen = new Set<string>();
    const executions = await until(
      async () => {
        const status = await api(`/server-executions/${serverId}`, aliceToken);
        expect(status.status).toBe(200);
        const list = ServerExecution.array().parse(status.body);
        seen.add(list[0]!.output);
        return list;
      },
      (list) => list[0]!.status === 'completed',
      60_000,
    );
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ id: setup.body.executionId, serverId, scriptId: 1, status: 'completed', error: null });
    expect(Date.parse(executions[0]!.estimatedCompletion!)).toBeGreaterThanOrEqual(Date.parse(executions[0]!.startedAt));
    // Whatever a poll caught (the lines come faster than polls on a loaded machine), it was one of the spec's forms.
    for (const output of seen) expect(output).toMatch(/^(Waiting for the server\.\.\.|Step \d\/6: .+|ComfyUI setup completed)$/);

    // 4. Generate image
    const generation = await post(`/comfy/${serverId}/generate`, aliceToken, { prompt: 'a beautiful sunset over the ocean', workflowId: 1 });
    expect(generation.status).toBe(200);
    expect(generation.body).toMatchObject({ success: true, generationId: expect.any(Number) });

    // The log stays readable, line by line, in JSON and in words.
    const log = await api(`/server-executions/${serverId}/${setup.body.executionId}/log`, aliceToken);
    expect(log.status).toBe(200);
    expect(log.body.lines.filter((l: { kind: string }) => l.kind === 'step').map((l: { text: string }) => l.text.replace(/ \(already done\)$/, ''))).toEqual(
      setup.body.steps.map((name: string, i: number) => `Step ${i + 1}/6: ${name}`),
    );
    expect(log.body.lines.at(-1)).toMatchObject({ kind: 'done', line: { done: true, rc: 0 } });
    await expect(until(async () => (await api(`/vast-servers/${serverId}`, aliceToken)).body, (s) => s.isLaunched === true)).resolves.toBeTruthy();
  });
});

describe('reset and its lines on the WebSocket', () => {
  it('streams a reset’s lines to a subscriber, answers a second startup with the running one, and keeps its log', async () => {
    const serverId = (await post('/vast-servers', aliceToken, { name: 'reset me', gpu: 'RTX 4090' })).body.id as number;
    const first = await post(`/comfy/startup/${serverId}`, aliceToken);
    await completed(serverId, aliceToken);

    const reset = await post(`/comfy/${serverId}/reset`, aliceToken, { keepModels: false });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ success: true, message: 'ComfyUI reset initiated', executionId: expect.any(Number) });
    const again = await post(`/comfy/startup/${serverId}`, aliceToken);
    expect(again.body).toMatchObject({ executionId: reset.body.executionId, started: false });
    expect((await post(`/comfy/${serverId}/reset`, aliceToken)).body).toMatchObject({ code: 'CONFLICT' });

    const socket = await openSocket(`${server.url.replace('http', 'ws')}/api/ws?token=${aliceToken}`);
    try {
      await socket.next((m) => m.type === 'ready');
      socket.send({ type: 'subscribe', executionId: reset.body.executionId });
      await socket.next((m) => m.type === 'subscribed' && m.executionId === reset.body.executionId);
      const lines: any[] = [];
      for (;;) {
        const message = await socket.next((m) => m.type === 'execution:line');
        lines.push(message);
        if (message.data.status !== 'running') break;
      }
      // Every line once, in order, whether it was replayed at subscription or streamed after.
      expect(lines.map((m) => m.seq)).toEqual(lines.map((_, i) => i + 1));
      expect(lines.filter((m) => m.data.line.kind === 'step').map((m) => m.data.line.line.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(lines.at(-1)).toMatchObject({ serverId, data: { status: 'completed', line: { kind: 'done' } } });

      socket.send({ type: 'subscribe', executionId: reset.body.executionId, since: 5 });
      await socket.next((m) => m.type === 'subscribed');
      const replay = await socket.next((m) => m.type === 'execution:line');
      expect(replay.seq).toBe(6);
    } finally {
      socket.close();
    }

    const list = (await api(`/server-executions/${serverId}`, aliceToken)).body as ServerExecution[];
    expect(list.map((e) => [e.id, e.scriptId, e.kind, e.status, e.keepModels])).toEqual([
      [reset.body.executionId, 2, 'reset', 'completed', false],
      [first.body.executionId, 1, 'setup', 'completed', null],
    ]);
  });
});

describe('who may see what', () => {
  it('answers another user’s server and execution as missing, on every route and on the WebSocket', async () => {
    const serverId = (await post('/vast-servers', aliceToken, { name: 'alice only', gpu: 'RTX 4090' })).body.id as number;
    const executionId = (await post(`/comfy/startup/${serverId}`, aliceToken)).body.executionId as number;
    const answers = await Promise.all([
      post(`/comfy/startup/${serverId}`, bobToken),
      post(`/comfy/${serverId}/reset`, bobToken),
      api(`/server-executions/${serverId}`, bobToken),
      api(`/server-executions/${serverId}/${executionId}/log`, bobToken),
    ]);
    expect(answers.map((a) => [a.status, a.body.code])).toEqual(Array(4).fill([404, 'SERVER_NOT_FOUND']));
    // Alice's own server with an execution id that is not of it is missing too.
    expect((await api(`/server-executions/${serverId}/${executionId + 1000}/log`, aliceToken)).body).toMatchObject({ code: 'NOT_FOUND' });

    const socket = await openSocket(`${server.url.replace('http', 'ws')}/api/ws?token=${bobToken}`);
    try {
      await socket.next((m) => m.type === 'ready');
      socket.send({ type: 'subscribe', executionId });
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ executionId, data: { code: 'NOT_FOUND' } });
    } finally {
      socket.close();
    }
    await completed(serverId, aliceToken);
  });

  it('answers setup on an attached ComfyUI with NOT_SUPPORTED in the standard error body', async () => {
    const comfy = await startFakeComfy({ timing: { speed: 100 } });
    try {
      const attached = await post('/vast-servers', aliceToken, { name: 'attached', comfyUrl: comfy.url });
      for (const answer of [await post(`/comfy/startup/${attached.body.id}`, aliceToken), await post(`/comfy/${attached.body.id}/reset`, aliceToken)]) {
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: expect.any(String), code: 'NOT_SUPPORTED', details: { serverId: attached.body.id, provider: 'attached' }, timestamp: expect.any(String) });
      }
      expect((await api(`/server-executions/${attached.body.id}`, aliceToken)).body).toEqual([]);
      expect((await post(`/comfy/${attached.body.id}/reset`, aliceToken, { keepModels: 'no' })).body).toMatchObject({ code: 'VALIDATION_ERROR' });
    } finally {
      await comfy.close();
    }
  });
});
