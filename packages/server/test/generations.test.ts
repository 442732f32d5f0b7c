import { BUILTIN_WORKFLOWS } from '@comfy-vast/core';
import { readPngText } from '@comfy-vast/testkit';
import type { ApiClient } from '@comfy-vast/server/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationEvent } from '../src/contract/index.js';
import { launchServer, raw, startWithAlice, until, type TestServer } from './helpers.js';
import { openSocket } from './ws-client.js';

let server: TestServer;
let alice: ApiClient;
let aliceToken: string;
let serverId: number;

beforeAll(async () => {
  ({ server, alice, aliceToken, serverId } = await startWithAlice());
}, 60_000);
afterAll(async () => server.stop());

const wsUrl = (token: string) => `${server.url.replace('http', 'ws')}/?token=${token}`;

describe('generations over REST and WebSocket', () => {
  it('runs the built-in workflow with live progress, previews and stored images', async () => {
    const socket = await openSocket(wsUrl(aliceToken));
    await socket.next((m) => m.type === 'ready');
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'a beautiful landscape with mountains', negativePrompt: 'blurry', parameters: { steps: 12, seed: -1, width: 512, height: 512 } } });
    expect(started).toMatchObject({ success: true, generationId: expect.any(Number), message: 'Image generation started', estimatedTime: expect.any(String), queuePosition: expect.any(Number) });
    expect(started.seed).toEqual(expect.any(Number));
    socket.send({ type: 'subscribe', generationId: started.generationId });

    const progress: number[] = [];
    const running: Array<{ currentNode: string | null; currentNodeId: string | null }> = [];
    let previews = 0;
    let complete: any;
    for (;;) {
      const m = await socket.next((x) => x.generationId === started.generationId && x.type !== 'subscribed');
      // Every event is the contract's, as the wire module maps the library's.
      expect(GenerationEvent.safeParse(m).error).toBeUndefined();
      if (m.type === 'progress') {
        progress.push(m.data.progress);
        running.push({ currentNode: m.data.currentNode, currentNodeId: m.data.currentNodeId });
        if (m.data.previewImage) previews++;
        expect(m.seq).toEqual(expect.any(Number));
      } else {
        complete = m;
        break;
      }
    }
    socket.close();
    expect(complete).toMatchObject({ type: 'complete', generationId: started.generationId, data: { status: 'completed', imageUrls: [expect.stringMatching(/^\/api\/comfy\/images\/\d+_\d+\.png$/)], executionTime: expect.any(Number) } });
    expect(complete.userId).toBeUndefined();
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(previews).toBeGreaterThan(0);
    // Each running node is named by its id in the prompt as well as by its class.
    const { prompt } = await alice.convertWorkflow({ params: { serverId }, body: { workflow: BUILTIN_WORKFLOWS.find((w) => w.id === 1)!.workflow as Record<string, unknown> } });
    const named = running.filter((r) => r.currentNode !== null);
    expect(named.map((r) => r.currentNode)).toContain('KSampler');
    for (const r of named) expect((prompt[r.currentNodeId!] as { class_type: string }).class_type).toBe(r.currentNode);

    const status = await alice.getProgress({ params: { generationId: started.generationId } });
    expect(status).toMatchObject({ generationId: started.generationId, status: 'completed', progress: 100, currentNode: null, currentNodeId: null });
    expect(status.completedNodes).toBe(status.totalNodes);
    expect(status.cost).toBeGreaterThan(0);

    const url = complete.data.imageUrls[0] as string;
    const image = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await image.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(Number(image.headers.get('content-length'))).toBe(bytes.length);
    const again = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${aliceToken}`, 'if-none-match': image.headers.get('etag')! } });
    expect(again.status).toBe(304);

    const history = await alice.listGenerations({ params: { serverId } });
    expect(history[0]).toMatchObject({ id: started.generationId, serverId, prompt: 'a beautiful landscape with mountains', status: 'completed', imageUrls: [url], cost: status.cost });
  }, 60_000);

  it('runs a workflow sent with the request, converted with the server’s node definitions', async () => {
    const sd15 = BUILTIN_WORKFLOWS.find((w) => w.id === 2)!.workflow as Record<string, unknown>;
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'inline', workflow: sd15, parameters: { steps: 3, seed: 5 } } });
    expect(started.seed).toBe(5);
    const done = await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status !== 'queued' && p.status !== 'executing');
    expect(done.status).toBe('completed');
    // The image carries the UI workflow as ComfyUI's own frontend sends it, so it opens again with its layout.
    const [url] = (await alice.listGenerations({ params: { serverId } })).find((g) => g.id === started.generationId)!.imageUrls;
    const image = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${aliceToken}` } });
    const text = readPngText(Buffer.from(await image.arrayBuffer()));
    expect(JSON.parse(text.workflow!)).toEqual(sd15);
    expect(JSON.parse(text.prompt!)['3']).toBeDefined();
  }, 30_000);

  it('sends the final event at once to a late subscriber, and replays with since', async () => {
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'late', parameters: { steps: 4 } } });
    await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
    const socket = await openSocket(wsUrl(aliceToken));
    socket.send({ type: 'subscribe', generationId: started.generationId });
    expect(await socket.next((m) => m.type === 'complete')).toMatchObject({ generationId: started.generationId, data: { status: 'completed' } });
    socket.send({ type: 'subscribe', generationId: started.generationId, since: 1_000_000 });
    await socket.next((m) => m.type === 'subscribed');
    socket.close();
  }, 30_000);

  it('replays what a dropped client missed when it subscribes again with since', async () => {
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'dropped', parameters: { steps: 150 } } });
    const first = await openSocket(wsUrl(aliceToken));
    first.send({ type: 'subscribe', generationId: started.generationId });
    const seen = await first.next((m) => m.type === 'progress' && m.seq >= 3);
    first.ws.terminate();

    const second = await openSocket(wsUrl(aliceToken));
    second.send({ type: 'subscribe', generationId: started.generationId, since: seen.seq });
    const resumed = await second.next((m) => m.generationId === started.generationId && (m.type === 'progress' || m.type === 'complete'));
    expect(resumed.seq).toBeGreaterThan(seen.seq);
    const done = await second.next((m) => m.type === 'complete', 30_000);
    expect(done.seq).toBeGreaterThan(resumed.seq - 1);
    second.close();
  }, 40_000);

  it("keeps another user's generations, images and history out of reach", async () => {
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'private', parameters: { steps: 2 } } });
    const done = await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
    expect(done.status).toBe('completed');
    const [item] = await alice.listGenerations({ params: { serverId }, query: { limit: 1 } });
    const bob = await server.admin.createUser({ body: { username: 'bob' } });

    const progress = await raw(server, `/api/comfy/progress/${started.generationId}`, { token: bob.token });
    const missing = await raw(server, '/api/comfy/progress/999999', { token: bob.token });
    expect(progress.status).toBe(404);
    expect(progress.body.code).toBe(missing.body.code);
    expect((await raw(server, item!.imageUrls[0]!, { token: bob.token })).status).toBe(404);
    expect((await raw(server, '/api/comfy/images/..%2F..%2Fadmin-token', { token: aliceToken })).status).toBe(404);
    expect((await raw(server, `/api/comfy/generations/${serverId}`, { token: bob.token })).body.code).toBe('SERVER_NOT_FOUND');
    expect((await raw(server, `/api/comfy/progress/${started.generationId}/cancel`, { method: 'POST', token: bob.token })).status).toBe(404);

    const socket = await openSocket(wsUrl(bob.token));
    socket.send({ type: 'subscribe', generationId: started.generationId });
    expect(await socket.next((m) => m.type === 'error')).toEqual({ type: 'error', generationId: started.generationId, data: { error: `Generation ${started.generationId} not found`, code: 'NOT_FOUND', details: {} } });
    socket.close();
  }, 30_000);

  it("keeps a deleted server's history and images for its owner, and fails at once what ran there", async () => {
    const doomed = await launchServer(alice, 'doomed');
    const done = await alice.generate({ params: { serverId: doomed }, body: { prompt: 'before the delete', parameters: { steps: 2 } } });
    await until(() => alice.getProgress({ params: { generationId: done.generationId } }), (p) => p.status === 'completed');
    const running = await alice.generate({ params: { serverId: doomed }, body: { prompt: 'cut short', parameters: { steps: 400 } } });
    await until(() => alice.getProgress({ params: { generationId: running.generationId } }), (p) => p.status === 'executing');
    await alice.deleteServer({ params: { id: doomed } });
    const lost = await until(() => alice.getProgress({ params: { generationId: running.generationId } }), (p) => p.status !== 'executing', 5_000);
    expect(lost.status).toBe('failed');

    const history = await alice.listGenerations({ params: { serverId: doomed } });
    expect(history.map((g) => [g.id, g.status])).toEqual([
      [running.generationId, 'failed'],
      [done.generationId, 'completed'],
    ]);
    expect(history[0]!.error).toEqual({ error: 'Generation lost', node: null, details: `Server ${doomed} is gone; its ComfyUI queue did not survive` });
    const image = await raw(server, history[1]!.imageUrls[0]!, { token: aliceToken });
    expect(image.status).toBe(200);

    const dave = await server.admin.createUser({ body: { username: 'dave' } });
    const theirs = await raw(server, `/api/comfy/generations/${doomed}`, { token: dave.token });
    const missing = await raw(server, '/api/comfy/generations/999999', { token: dave.token });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ code: 'SERVER_NOT_FOUND', error: `Server ${doomed} not found` });
    expect(missing.body.code).toBe('SERVER_NOT_FOUND');
    expect((await raw(server, history[1]!.imageUrls[0]!, { token: dave.token })).status).toBe(404);
  }, 40_000);

  it('pages history newest first with a cursor', async () => {
    const first = await raw(server, `/api/comfy/generations/${serverId}?limit=2`, { token: aliceToken });
    expect(first.body).toHaveLength(2);
    const cursor = first.headers.get('x-next-cursor');
    expect(cursor).toMatch(/^\d+$/);
    const second = await raw(server, `/api/comfy/generations/${serverId}?limit=2&cursor=${cursor}`, { token: aliceToken });
    expect(second.body[0].id).toBeLessThan(first.body[1].id);
  });

  it('refuses a generation on a server that is not running', async () => {
    const other = await alice.createServer({ body: { name: 'booting', gpu: 'RTX 4090' } });
    const res = await raw(server, `/api/comfy/${other.id}/generate`, { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x' }) });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('SERVER_NOT_RUNNING');
  });

  it('cancels a running generation and a queued one', async () => {
    const long = await alice.generate({ params: { serverId }, body: { prompt: 'long', parameters: { steps: 400 } } });
    const queued = await alice.generate({ params: { serverId }, body: { prompt: 'queued', parameters: { steps: 400 } } });
    await until(() => alice.getProgress({ params: { generationId: long.generationId } }), (p) => p.status === 'executing');
    const pending = await alice.cancelGeneration({ params: { generationId: queued.generationId } });
    expect(pending.status).toBe('cancelled');
    await alice.cancelGeneration({ params: { generationId: long.generationId } });
    const ended = await until(() => alice.getProgress({ params: { generationId: long.generationId } }), (p) => p.status !== 'executing');
    expect(ended.status).toBe('cancelled');
  }, 30_000);
});

describe('generation rate limits', () => {
  it('refuses the eleventh generation in a minute with 429', async () => {
    const carol = await server.admin.createUser({ body: { username: 'carol' } });
    const client = server.client(carol.token);
    const carolServer = await launchServer(client, 'carol');
    for (let i = 0; i < 10; i++) await client.generate({ params: { serverId: carolServer }, body: { prompt: `n${i}`, parameters: { steps: 1 } } });
    const refused = await raw(server, `/api/comfy/${carolServer}/generate`, { method: 'POST', token: carol.token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'eleventh' }) });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { window: 'minute' } });
  }, 60_000);
});
