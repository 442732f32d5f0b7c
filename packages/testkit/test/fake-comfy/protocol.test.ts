import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../../src/fake-comfy/index.js';
import { getJson, post, Probe, recordedFrames, recordedMessage, recordedTypes, sdxlPrompt } from './helpers.js';

const emptyImagePrompt = (color: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 2, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'probe' } },
});

const keys = (o: object) => Object.keys(o).sort();

describe('fake ComfyUI socket protocol, against the recorded server', () => {
  let comfy: FakeComfy;
  const probes: Probe[] = [];
  const open = async (query = '') => {
    const p = await Probe.open(comfy.url, query);
    probes.push(p);
    return p;
  };

  beforeEach(async () => {
    comfy = await startFakeComfy({ timing: { speed: 50 } });
  });
  afterEach(async () => {
    for (const p of probes.splice(0)) p.close();
    await comfy.close();
  });

  it('greets with status carrying the sid, mints a hex sid when none is given and answers the feature_flags handshake', async () => {
    const named = await open('?clientId=probe1');
    expect(named.frames[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'probe1' } });
    const anon = await open();
    expect(anon.json()[0]!.data.sid).toMatch(/^[0-9a-f]{32}$/);
    const flagged = await open('?clientId=probe2');
    flagged.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    const reply = await flagged.next((f) => 'type' in f && f.type === 'feature_flags');
    expect(reply).toEqual({ type: 'feature_flags', data: recordedMessage('connect', 'feature_flags') });
  });

  it('sends a prompt’s events only to its client, in the recorded order and shapes', async () => {
    const ws1 = await open('?clientId=probe1');
    const ws2 = await open('?clientId=probe2');
    const res = await post(`${comfy.url}/prompt`, { prompt: emptyImagePrompt(0xff0000), client_id: 'probe1' });
    expect(res.status).toBe(200);
    const { prompt_id } = res.body as { prompt_id: string };
    await ws1.finished(prompt_id);
    await ws2.next((f) => 'type' in f && f.type === 'status' && (f.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0 && !('sid' in f.data));

    const got = ws1.json().slice(1);
    expect(got.map((m) => m.type)).toEqual(recordedTypes('empty_image_save', 'ws1'));
    const recorded = recordedFrames('empty_image_save', 'ws1');
    got.forEach((m, i) => expect(keys(m.data), m.type).toEqual(keys(recorded[i]!.data)));
    expect(new Set(ws2.json().map((m) => m.type))).toEqual(new Set(['status']));

    const again = await post(`${comfy.url}/prompt`, { prompt: emptyImagePrompt(0xff0000), client_id: 'probe1' });
    const id2 = (again.body as { prompt_id: string }).prompt_id;
    await ws1.finished(id2);
    const second = ws1.json().filter((m) => m.type !== 'status' && m.data.prompt_id === id2);
    expect(second.map((m) => m.type)).toEqual(recordedTypes('same_prompt_twice', 'ws1').filter((t) => t !== 'status'));
    expect(second.find((m) => m.type === 'execution_cached')!.data.nodes).toEqual(['1', '2']);
  });

  it('streams sampler steps with previews: type 1 to legacy clients, type 4 with metadata after the handshake', async () => {
    const legacy = await open('?clientId=legacy');
    const modern = await open('?clientId=modern');
    modern.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await modern.next((f) => 'type' in f && f.type === 'feature_flags');

    for (const [probe, client] of [[legacy, 'legacy'], [modern, 'modern']] as const) {
      const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(probe === legacy ? 1 : 2, 3), client_id: client });
      await probe.finished((body as { prompt_id: string }).prompt_id);
      const progress = probe.json().filter((m) => m.type === 'progress');
      expect(progress.map((m) => [m.data.value, m.data.max, m.data.node])).toEqual([[1, 3, '3'], [2, 3, '3'], [3, 3, '3']]);
      expect(keys(progress[0]!.data)).toEqual(keys(recordedMessage('preview_binary_legacy', 'progress')));
      const previews = probe.frames.filter((f): f is { binary: Buffer } => 'binary' in f);
      expect(previews).toHaveLength(3);
      const frame = previews[0]!.binary;
      if (probe === legacy) {
        expect([frame.readUInt32BE(0), frame.readUInt32BE(4)]).toEqual([1, 2]);
        expect(frame.subarray(8, 12).toString('latin1')).toBe('\x89PNG');
      } else {
        expect(frame.readUInt32BE(0)).toBe(4);
        const len = frame.readUInt32BE(4);
        const meta = JSON.parse(frame.subarray(8, 8 + len).toString()) as Record<string, unknown>;
        expect(meta).toMatchObject({ node_id: '3', prompt_id: body && (body as { prompt_id: string }).prompt_id, image_type: 'image/png' });
        expect(frame.subarray(8 + len, 12 + len).toString('latin1')).toBe('\x89PNG');
      }
    }
  });

  it('broadcasts only status, progress and progress_state for a prompt without client_id, as recorded', async () => {
    const ws1 = await open('?clientId=probe1');
    const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(3, 2) });
    const id = (body as { prompt_id: string }).prompt_id;
    await ws1.next((f) => 'type' in f && f.type === 'status' && comfy.queueRemaining() === 0 && f !== ws1.frames[0]);
    await expect.poll(async () => (await getJson(`${comfy.url}/history/${id}`)).body).toHaveProperty(id);
    const recorded = new Set(recordedTypes('no_client_id', 'ws1'));
    expect(new Set(ws1.json().map((m) => m.type))).toEqual(recorded);
  });

  it('tells a socket reconnecting with the same client id the current node, without prompt_id, and forgets the old one', async () => {
    comfy.injectFault({ kind: 'hang' });
    const first = await open('?clientId=probe3');
    const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(4, 2), client_id: 'probe3' });
    const id = (body as { prompt_id: string }).prompt_id;
    await first.next((f) => 'type' in f && f.type === 'executing' && f.data.node === '3');
    const second = await open('?clientId=probe3');
    expect(second.json()[1]).toEqual({ type: 'executing', data: { node: '3' } });
    await post(`${comfy.url}/interrupt`, { prompt_id: id });
    await second.finished(id);
    expect(first.json().some((m) => m.type === 'execution_interrupted')).toBe(false);
  });

  it('fails a sampler with CUDA out of memory shaped like a recorded execution_error, then status and executing null', async () => {
    comfy.injectFault({ kind: 'oom' });
    const ws = await open('?clientId=probe1');
    const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(5, 4), client_id: 'probe1' });
    const id = (body as { prompt_id: string }).prompt_id;
    await ws.finished(id);
    const types = ws.json().map((m) => m.type);
    expect(types.slice(-3)).toEqual(['execution_error', 'status', 'executing']);
    const error = ws.json().find((m) => m.type === 'execution_error')!.data;
    expect(keys(error)).toEqual(keys(recordedMessage('runtime_error', 'execution_error')));
    expect(error).toMatchObject({ node_id: '3', node_type: 'KSampler', exception_type: 'torch.OutOfMemoryError' });
    const history = (await getJson(`${comfy.url}/history/${id}`)).body as Record<string, { status: { status_str: string; completed: boolean } }>;
    expect(history[id]!.status).toMatchObject({ status_str: 'error', completed: false });
  });

  it('interrupts only the named running prompt, and globally without a body, as recorded', async () => {
    comfy.injectFault({ kind: 'hang' });
    const ws = await open('?clientId=probe1');
    const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(6, 2), client_id: 'probe1' });
    const id = (body as { prompt_id: string }).prompt_id;
    await ws.next((f) => 'type' in f && f.type === 'executing' && f.data.node === '3');
    expect((await post(`${comfy.url}/interrupt`, { prompt_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(200);
    expect(comfy.queueRemaining()).toBe(1);
    const res = await fetch(`${comfy.url}/interrupt`, { method: 'POST' });
    expect(res.status).toBe(200);
    await ws.finished(id);
    const interrupted = ws.json().find((m) => m.type === 'execution_interrupted')!.data;
    expect(keys(interrupted)).toEqual(keys(recordedMessage('interrupt', 'execution_interrupted')));
    expect(interrupted).toMatchObject({ node_id: '3', node_type: 'KSampler' });
  });

  it('cuts the submitter’s socket mid-run on a drop-socket fault and still writes history', async () => {
    comfy.injectFault({ kind: 'drop-socket', afterSteps: 1 });
    const ws = await open('?clientId=probe1');
    const closed = new Promise((r) => ws.ws.once('close', r));
    const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(7, 3), client_id: 'probe1' });
    const id = (body as { prompt_id: string }).prompt_id;
    await closed;
    await expect.poll(async () => (await getJson(`${comfy.url}/history/${id}`)).body).toHaveProperty(id);
  });

  it('keeps a muted prompt off the socket while it completes in history', async () => {
    comfy.injectFault({ kind: 'mute' });
    const ws = await open('?clientId=probe1');
    const { body } = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(8, 2), client_id: 'probe1' });
    const id = (body as { prompt_id: string }).prompt_id;
    await expect.poll(async () => (await getJson(`${comfy.url}/history/${id}`)).body).toHaveProperty(id);
    expect(ws.json().every((m) => m.type === 'status')).toBe(true);
  });
});
