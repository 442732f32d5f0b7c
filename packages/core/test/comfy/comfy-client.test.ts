import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '@comfy-vast/testkit';
import { ComfyClient, ComfyConnectionPool, ComfySocket, ManualClock, isComfyVastError } from '@comfy-vast/core';
import { sdxlPrompt } from './helpers.js';

const fakes: FakeComfy[] = [];
const sockets: ComfySocket[] = [];
async function setup(options: FakeComfyOptions = {}) {
  const comfy = await startFakeComfy({ timing: { speed: 50 }, ...options });
  fakes.push(comfy);
  const socket = new ComfySocket({ url: comfy.url, token: options.token });
  sockets.push(socket);
  await socket.connect();
  return { comfy, socket, client: new ComfyClient({ url: comfy.url, token: options.token }) };
}
const hanging: Server[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) await s.close();
  for (const f of fakes.splice(0)) await f.close();
  for (const h of hanging.splice(0)) {
    h.closeAllConnections();
    await new Promise((resolve) => h.close(resolve));
  }
  for (const a of agents.splice(0)) await a.close();
});

/**
 * A loopback server that takes a request and never finishes answering it: it stays silent, or (`stallInBody`) sends
 * the headers and the first bytes of a body. `requested` resolves with the request's socket once it has arrived.
 */
async function hangingServer(stallInBody: boolean): Promise<{ url: string; requested: Promise<Socket> }> {
  let arrived!: (socket: Socket) => void;
  const requested = new Promise<Socket>((resolve) => (arrived = resolve));
  const server = createServer((req, res) => {
    if (stallInBody) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"system":', () => arrived(req.socket));
    } else {
      arrived(req.socket);
    }
  });
  hanging.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requested };
}

/** A real agent that notes every request dispatched through it. */
class CountingAgent extends Agent {
  readonly calls: string[] = [];

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.calls.push(`${options.method} ${options.path.split('?')[0]}`);
    return super.dispatch(options, handler);
  }
}

function countingAgent(): CountingAgent {
  const agent = new CountingAgent();
  agents.push(agent);
  return agent;
}

async function waitForHistory(client: ComfyClient, promptId: string) {
  await expect.poll(() => client.history(promptId)).toBeDefined();
  return (await client.history(promptId))!;
}

describe('ComfyClient against the fake ComfyUI', () => {
  it('submits with our client id and a UUID prompt id, and reads history, jobs and the image', async () => {
    const { client, socket } = await setup();
    const { promptId, nodeErrors } = await client.submit(sdxlPrompt(1), { clientId: socket.clientId });
    expect(promptId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(nodeErrors).toEqual({});
    const entry = await waitForHistory(client, promptId);
    expect(entry.status?.status_str).toBe('success');
    expect(await client.hasJobsApi()).toBe(true);
    expect(await client.job(promptId)).toMatchObject({ id: promptId, status: 'completed' });
    expect(await client.job('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    const image = (entry.outputs['9'] as { images: { filename: string; subfolder: string; type: string }[] }).images[0]!;
    const view = await client.view(image);
    const chunks: Buffer[] = [];
    for await (const chunk of view.stream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    expect(view.contentType).toBe('image/png');
    expect(view.contentLength).toBe(bytes.length);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  });

  it('turns a 400 into WORKFLOW_INVALID carrying ComfyUI’s node_errors', async () => {
    const { client, socket } = await setup({ models: { checkpoints: [] } });
    const err = await client.submit(sdxlPrompt(1), { clientId: socket.clientId }).catch((e: unknown) => e);
    expect(isComfyVastError(err, 'WORKFLOW_INVALID')).toBe(true);
    const details = (err as { details: { error: { type: string }; node_errors: Record<string, { errors: { type: string }[] }> } }).details;
    expect(details.error.type).toBe('prompt_outputs_failed_validation');
    expect(details.node_errors['4']!.errors[0]!.type).toBe('value_not_in_list');
  });

  it('returns the node_errors of a prompt ComfyUI accepted without some outputs', async () => {
    const { client, socket } = await setup();
    const prompt = { ...sdxlPrompt(2), '10': { class_type: 'SaveImage', inputs: { images: ['5', 0], filename_prefix: 'bad' } } };
    const { nodeErrors } = await client.submit(prompt, { clientId: socket.clientId });
    expect(Object.keys(nodeErrors)).toEqual(['10']);
  });

  it('sorts the pending queue by number, deletes pending prompts and interrupts the running one', async () => {
    const { client, socket, comfy } = await setup({ faults: [{ kind: 'hang' }] });
    const running = await client.submit(sdxlPrompt(3), { clientId: socket.clientId });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.submit(sdxlPrompt(10 + i), { clientId: socket.clientId })).promptId);
    ids.push((await client.submit(sdxlPrompt(20), { clientId: socket.clientId, front: true })).promptId);
    await expect.poll(async () => (await client.queue()).running.map((e) => e.promptId)).toEqual([running.promptId]);
    const queue = await client.queue();
    expect(queue.pending.map((e) => e.promptId)).toEqual([ids[3], ids[0], ids[1], ids[2]]);
    await client.deleteQueued(ids);
    expect((await client.queue()).pending).toEqual([]);
    await client.interrupt(running.promptId);
    const entry = await waitForHistory(client, running.promptId);
    expect(entry.status?.messages.map(([t]) => t)).toContain('execution_interrupted');
    expect(comfy.queueRemaining()).toBe(0);
  });

  it('caches object_info until asked to refresh, and lists models and system stats', async () => {
    const { client, comfy } = await setup({ models: { checkpoints: ['a.safetensors'] } });
    const ckpt = async (refresh: boolean) => ((await client.objectInfo({ refresh })).CheckpointLoaderSimple!.input as { required: { ckpt_name: [string[]] } }).required.ckpt_name[0];
    expect(await ckpt(false)).toEqual(['a.safetensors']);
    comfy.setModels('checkpoints', ['a.safetensors', 'b.safetensors']);
    expect(await ckpt(false)).toEqual(['a.safetensors']);
    expect(await ckpt(true)).toEqual(['a.safetensors', 'b.safetensors']);
    expect(await client.modelFiles('checkpoints')).toEqual(['a.safetensors', 'b.safetensors']);
    expect(await client.modelFiles('no_such_folder')).toEqual([]);
    expect(await client.modelFolders()).toContain('loras');
    expect((await client.systemStats()).devices[0]!.type).toBe('cuda');
  });

  it('uploads an input image under the name LoadImage takes', async () => {
    const { client } = await setup();
    expect(await client.uploadImage(Buffer.from('png bytes'), 'ref.png')).toMatchObject({ name: 'ref.png', subfolder: '', type: 'input' });
    const loadImage = (await client.objectInfo({ refresh: true })).LoadImage!.input as { required: { image: [string[]] } };
    expect(loadImage.required.image[0]).toContain('ref.png');
  });

  it('sends the Bearer token, and reports a refused token or an unreachable server as COMFY_CONNECTION_FAILED', async () => {
    const { comfy } = await setup({ token: 'pw' });
    expect((await new ComfyClient({ url: comfy.url, token: 'pw' }).systemStats()).system.comfyui_version).toBeTruthy();
    const refused = await new ComfyClient({ url: comfy.url, token: 'wrong' }).systemStats().catch((e: unknown) => e);
    expect(isComfyVastError(refused, 'COMFY_CONNECTION_FAILED')).toBe(true);
    const gone = await new ComfyClient({ url: 'http://127.0.0.1:9' }).queue().catch((e: unknown) => e);
    expect(isComfyVastError(gone, 'COMFY_CONNECTION_FAILED')).toBe(true);
    const socket = new ComfySocket({ url: comfy.url, token: 'wrong' });
    expect(isComfyVastError(await socket.connect().catch((e: unknown) => e), 'COMFY_CONNECTION_FAILED')).toBe(true);
  });

  it('reads history instead of jobs on a server without the jobs API', async () => {
    const { client, socket } = await setup({ jobsApi: false });
    expect(await client.hasJobsApi()).toBe(false);
    const { promptId } = await client.submit(sdxlPrompt(4), { clientId: socket.clientId });
    expect((await waitForHistory(client, promptId)).status?.completed).toBe(true);
  });
});

describe('ComfyClient over undici', () => {
  it.each([
    ['stays silent', false],
    ['stalls in the body', true],
  ])('times out on the injected clock, exactly at the limit, when ComfyUI %s, and drops the connection', async (_, stallInBody) => {
    const server = await hangingServer(stallInBody);
    const clock = new ManualClock();
    const client = new ComfyClient({ url: server.url, clock, requestTimeoutMs: 5_000 });
    let outcome: unknown = 'pending';
    void client.systemStats().then(
      () => (outcome = 'answered'),
      (e: unknown) => (outcome = e),
    );
    const socket = await server.requested;
    // A connection torn down mid-body is reset: wait for the close, whatever error comes before it.
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await clock.advance(4_999);
    expect(outcome).toBe('pending');
    await clock.advance(1);
    // Settled by the clock's move itself: a wall-clock timer would still be waiting here.
    expect(outcome).not.toBe('pending');
    expect(isComfyVastError(outcome, 'COMFY_CONNECTION_FAILED')).toBe(true);
    expect((outcome as Error).message).toBe(`Cannot reach ComfyUI at ${server.url}`);
    await closed;
    expect(clock.pendingTimers).toBe(0);
  });

  it('clears its timer on the clock once answered, whatever the status', async () => {
    const { comfy } = await setup();
    const clock = new ManualClock();
    const client = new ComfyClient({ url: comfy.url, clock, requestTimeoutMs: 5_000 });
    await client.systemStats();
    await expect(client.modelFiles('no_such_folder')).resolves.toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('sends every call, answered or refused, through the injected dispatcher', async () => {
    const { comfy, socket } = await setup({ models: { checkpoints: [] } });
    const agent = countingAgent();
    const client = new ComfyClient({ url: comfy.url, dispatcher: agent });
    await client.systemStats();
    expect(await client.modelFiles('no_such_folder')).toEqual([]);
    expect(await client.job('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    const missing = await client.view({ filename: 'none.png', subfolder: '', type: 'output' }).catch((e: unknown) => e);
    expect(isComfyVastError(missing, 'NOT_FOUND')).toBe(true);
    const invalid = await client.submit(sdxlPrompt(1), { clientId: socket.clientId }).catch((e: unknown) => e);
    expect(isComfyVastError(invalid, 'WORKFLOW_INVALID')).toBe(true);
    expect(await client.uploadImage(Buffer.from('png bytes'), 'ref.png')).toMatchObject({ name: 'ref.png' });
    expect(agent.calls).toEqual(['GET /system_stats', 'GET /models/no_such_folder', 'GET /api/jobs/00000000-0000-4000-8000-000000000000', 'GET /view', 'POST /prompt', 'POST /upload/image']);
  });

  it('takes the dispatcher from the connection pool', async () => {
    const { comfy } = await setup();
    const agent = countingAgent();
    const pool = new ComfyConnectionPool({ dispatcher: agent });
    try {
      await pool.get({ url: comfy.url }).client.queue();
    } finally {
      await pool.closeAll();
    }
    expect(agent.calls).toEqual(['GET /queue']);
  });
});
