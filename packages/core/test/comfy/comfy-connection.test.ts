import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfyOptions } from '@comfy-vast/testkit';
import { ComfyConnection, ManualClock, type ComfyConnectionOptions, type PromptOutcome } from '@comfy-vast/core';
import { nextEvent, sdxlPrompt } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(options: FakeComfyOptions = {}, connection: Omit<ComfyConnectionOptions, 'url'> = {}) {
  const comfy = await startFakeComfy({ timing: { speed: 50 }, ...options });
  cleanup.push(() => comfy.close());
  const clock = new ManualClock();
  const conn = new ComfyConnection({ url: comfy.url, clock, random: () => 0, backoff: { initialMs: 100 }, ...connection });
  cleanup.push(() => conn.close());
  await conn.start();
  return { comfy, clock, conn };
}

const finished = (conn: ComfyConnection, promptId: string) =>
  nextEvent<[string, PromptOutcome]>(conn, 'finished', (id) => id === promptId).then(([, outcome]) => outcome);

describe('ComfyConnection', () => {
  it('follows a prompt from submission to its outputs', async () => {
    const { conn } = await setup();
    const nodes: string[] = [];
    conn.on('node', (_, node) => nodes.push(node));
    const { promptId } = await conn.submit(sdxlPrompt(1));
    const outcome = await finished(conn, promptId);
    expect(outcome.status).toBe('success');
    expect(outcome).toMatchObject({ outputs: { '9': { images: [{ filename: 'ComfyUI_00001_.png', type: 'output' }] } } });
    expect(nodes).toEqual(['4', '6', '7', '5', '3', '8', '9']);
    expect(conn.trackedCount).toBe(0);
  });

  it('reads a finished prompt’s own record, not the whole queue, which lists every waiting prompt in full', async () => {
    const { comfy, conn } = await setup({ logRequests: true });
    const { promptId } = await conn.submit(sdxlPrompt(1));
    const queueReads = comfy.requests().filter((r) => r.path === '/queue').length;
    expect(await finished(conn, promptId)).toMatchObject({ status: 'success' });
    const after = comfy.requests().slice(-1);
    expect(comfy.requests().filter((r) => r.path === '/queue').length).toBe(queueReads);
    expect(after).toEqual([{ method: 'GET', path: `/api/jobs/${promptId}` }]);
  });

  it('reconnects after a dropped socket and reconciles the prompt it missed', async () => {
    const { comfy, conn, clock } = await setup({ faults: [{ kind: 'drop-socket', afterSteps: 1 }] });
    const closed = nextEvent(conn.socket, 'close');
    const { promptId } = await conn.submit(sdxlPrompt(2, 5));
    const done = finished(conn, promptId);
    await closed;
    // The prompt finishes on ComfyUI while we are away: its events are lost.
    await expect.poll(() => comfy.queueRemaining()).toBe(0);
    const reopened = nextEvent(conn.socket, 'open');
    await clock.advance(100);
    await reopened;
    expect(await done).toMatchObject({ status: 'success', outputs: { '9': { images: [{ type: 'output' }] } } });
  });

  it('refreshes the cached object_info after a reconnect', async () => {
    const { comfy, conn, clock } = await setup({ models: { checkpoints: ['a.safetensors'] } });
    const names = async () => ((await conn.client.objectInfo()).CheckpointLoaderSimple!.input as { required: { ckpt_name: [string[]] } }).required.ckpt_name[0];
    expect(await names()).toEqual(['a.safetensors']);
    comfy.setModels('checkpoints', ['a.safetensors', 'b.safetensors']);
    expect(await names()).toEqual(['a.safetensors']);
    const closed = nextEvent(conn.socket, 'close');
    comfy.dropSockets();
    await closed;
    const reopened = nextEvent(conn.socket, 'open');
    await clock.advance(100);
    await reopened;
    expect(await names()).toEqual(['a.safetensors', 'b.safetensors']);
  });

  it('reads the state of a prompt whose socket went silent, so it never hangs', async () => {
    const { conn, comfy, clock } = await setup({ faults: [{ kind: 'mute' }] }, { silenceMs: 5000 });
    const { promptId } = await conn.submit(sdxlPrompt(3));
    const done = finished(conn, promptId);
    await expect.poll(() => comfy.queueRemaining()).toBe(0);
    await clock.advance(5000);
    expect((await done).status).toBe('success');
  });

  it('uses /history on servers without the jobs API, and reports prompts ComfyUI no longer knows as lost', async () => {
    const { conn } = await setup({ jobsApi: false, faults: [{ kind: 'mute' }] });
    const { promptId } = await conn.submit(sdxlPrompt(4));
    await expect.poll(async () => (await conn.state(promptId)).state).toBe('finished');
    expect(await conn.state(promptId)).toMatchObject({ state: 'finished', outcome: { status: 'success' } });
    const lost = '11111111-1111-4111-8111-111111111111';
    conn.track(lost);
    const outcome = finished(conn, lost);
    await conn.reconcile();
    expect(await outcome).toMatchObject({ status: 'lost' });
  });

  it('reports pending prompts with their position and an out-of-memory failure with ComfyUI’s error', async () => {
    const { conn } = await setup({ faults: [{ kind: 'hang' }, { kind: 'oom' }] });
    const first = await conn.submit(sdxlPrompt(5));
    const second = await conn.submit(sdxlPrompt(6));
    await expect.poll(async () => (await conn.state(first.promptId)).state).toBe('running');
    expect(await conn.state(second.promptId)).toEqual({ state: 'pending', position: 2 });
    const failed = finished(conn, second.promptId);
    await conn.client.interrupt(first.promptId);
    const outcome = await failed;
    expect(outcome).toMatchObject({ status: 'error', error: { node_id: '3', node_type: 'KSampler', exception_type: 'torch.OutOfMemoryError' } });
  });

  it('closes the socket when nothing has been tracked for a while and reopens it for the next prompt', async () => {
    const { conn, clock } = await setup({}, { idleCloseMs: 1000 });
    const first = await conn.submit(sdxlPrompt(8, 1));
    await finished(conn, first.promptId);
    await clock.advance(999);
    expect(conn.socket.connected).toBe(true);
    await clock.advance(1);
    await expect.poll(() => conn.socket.connected).toBe(false);
    const second = await conn.submit(sdxlPrompt(9, 1));
    expect(conn.socket.connected).toBe(true);
    expect((await finished(conn, second.promptId)).status).toBe('success');
  });

  it('retries the state of a prompt ComfyUI does not answer for with backoff, and reports it lost after unreachableMs', async () => {
    const { conn, comfy, clock } = await setup({ faults: [{ kind: 'hang' }] }, { unreachableMs: 1000, backoff: { initialMs: 500 } });
    const { promptId } = await conn.submit(sdxlPrompt(10));
    const done = finished(conn, promptId);
    await comfy.close();
    const unanswered: string[] = [];
    conn.on('unreachable', (id, error) => unanswered.push(`${id}: ${error.message}`));
    await conn.check(promptId);
    expect(unanswered).toEqual([expect.stringMatching(new RegExp(`^${promptId}: Cannot reach ComfyUI at `))]);
    await clock.advance(499);
    expect(unanswered).toHaveLength(1);
    await clock.advance(1);
    await expect.poll(() => unanswered.length).toBe(2);
    // The next read comes 1 s later, 1.5 s after the first failure: past the limit, the prompt is lost.
    await clock.advance(1000);
    expect(await done).toEqual({ status: 'lost', reason: expect.stringMatching(/^ComfyUI did not answer for 2 s \(Cannot reach ComfyUI at /) });
    expect(unanswered).toHaveLength(2);
    expect(conn.trackedCount).toBe(0);
  });

  it('gives up on a prompt past its time limit and cancels it on ComfyUI', async () => {
    const { conn, comfy, clock } = await setup({ faults: [{ kind: 'hang' }] }, { promptTimeoutMs: 60_000, silenceMs: 120_000 });
    const { promptId } = await conn.submit(sdxlPrompt(7));
    const done = finished(conn, promptId);
    await expect.poll(() => comfy.queueRemaining()).toBe(1);
    await clock.advance(60_000);
    expect(await done).toMatchObject({ status: 'lost', reason: 'No result within 60 s' });
    await expect.poll(() => comfy.queueRemaining()).toBe(0);
  });
});
