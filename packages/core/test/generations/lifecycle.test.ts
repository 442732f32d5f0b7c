import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinPrompt, ComfyVastError, isComfyVastError, type GenerationEvent } from '@comfy-vast/core';
import { eventOf, harness, OTHER_USER, request, SERVER, USER, type Harness } from './setup.js';

let h: Harness;
afterEach(async () => h?.cleanup());

describe('GenerationService lifecycle against the fake ComfyUI', () => {
  it('generates: monotone progress ending at 100, previews, stored images and the spec’s events', async () => {
    h = await harness();
    const storedSeqAtEmit: boolean[] = [];
    for (const type of ['progress', 'complete'] as const) {
      h.service.on(type, (e: GenerationEvent) => storedSeqAtEmit.push(h.service.get(USER, e.generationId).seq === e.seq));
    }
    const res = await h.service.generate(USER, SERVER, request(6));
    expect(res).toMatchObject({ generationId: expect.any(Number), queuePosition: 1, seed: 0.25 * 2 ** 48 });
    expect(res.estimatedTime).toMatch(/^\d+-\d+ seconds$/);
    const complete = await eventOf(h, res.generationId, 'complete');

    const mine = h.events.filter((e) => e.generationId === res.generationId);
    const progress = mine.filter((e): e is Extract<GenerationEvent, { type: 'progress' }> => e.type === 'progress').map((e) => e.data.progress);
    expect(progress.length).toBeGreaterThan(6);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1));
    expect(storedSeqAtEmit.every(Boolean)).toBe(true);
    const previews = mine.flatMap((e) => (e.type === 'progress' && e.data.previewImage ? [e.data.previewImage] : []));
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]).toMatch(/^data:image\/png;base64,/);

    const file = `${res.generationId}_1.png`;
    expect(complete).toMatchObject({ type: 'complete', generationId: res.generationId, userId: USER, data: { status: 'completed', images: [file] } });
    const nodes = Object.keys(h.service.get(USER, res.generationId).apiPrompt).length;
    expect(h.service.getProgress(USER, res.generationId)).toMatchObject({ status: 'completed', progress: 100, totalNodes: nodes, completedNodes: nodes, currentNode: null, estimatedTimeRemaining: 0 });
    const image = await h.service.getImage(USER, file);
    const bytes = await buffer(image.open());
    expect(image).toMatchObject({ contentType: 'image/png', size: bytes.length });
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(h.service.finalEvent(USER, res.generationId)).toEqual(complete);
    expect(h.service.eventsSince(USER, res.generationId, 3)).toEqual([complete]);
    expect(h.service.eventsSince(USER, res.generationId, complete.seq)).toEqual([]);
  });

  it('weights sampler steps: the bar moves with each step and most of it is the sampler', async () => {
    h = await harness();
    const { generationId } = await h.service.generate(USER, SERVER, request(20));
    await eventOf(h, generationId, 'complete');
    const sampling = h.events.flatMap((e) => (e.type === 'progress' && e.generationId === generationId && e.data.currentNode === 'KSampler' ? [e.data.progress] : []));
    expect(new Set(sampling).size).toBeGreaterThanOrEqual(15);
    expect(Math.max(...sampling) - Math.min(...sampling)).toBeGreaterThanOrEqual(60);
  });

  it('counts only the nodes that run: a second seed reuses the cached loaders and encoders', async () => {
    h = await harness();
    const first = await h.service.generate(USER, SERVER, request(2, { seed: 1 }));
    await eventOf(h, first.generationId, 'complete');
    const second = await h.service.generate(USER, SERVER, request(2, { seed: 2 }));
    await eventOf(h, second.generationId, 'complete');
    expect(h.service.getProgress(USER, second.generationId)).toMatchObject({ totalNodes: 3, completedNodes: 3 });
    expect(h.service.get(USER, second.generationId).seed).toBe(2);
  });

  it('lists active generations, and history newest first in pages', async () => {
    h = await harness({ faults: [{ kind: 'hang' }] });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.service.generate(USER, SERVER, request(1, { seed: i }))).generationId);
    expect(h.service.listActive(USER).map((g) => g.generationId).sort()).toEqual(ids);
    expect(h.service.listActive(OTHER_USER)).toEqual([]);
    const page1 = h.service.listHistory(USER, SERVER, { limit: 2 });
    expect(page1.items.map((g) => g.id)).toEqual([ids[2], ids[1]]);
    const page2 = h.service.listHistory(USER, SERVER, { limit: 2, cursor: page1.nextCursor });
    expect(page2).toEqual({ items: [expect.objectContaining({ id: ids[0], status: expect.any(String), images: [] })], nextCursor: null });
    expect(h.service.listHistory(OTHER_USER, SERVER).items).toEqual([]);
    await expect.poll(() => h.service.getProgress(USER, ids[0]!).currentNode).toBe('KSampler');
    const current = h.service.get(USER, ids[0]!);
    // The running node by its id in the prompt as submitted, beside its class.
    const [samplerId] = Object.entries(current.apiPrompt).find(([, node]) => (node as { class_type: string }).class_type === 'KSampler')!;
    expect(h.service.getProgress(USER, ids[0]!)).toMatchObject({ currentNode: 'KSampler', currentNodeId: samplerId });
    expect(h.service.eventsSince(USER, ids[0]!, 0)).toEqual([
      { type: 'progress', generationId: ids[0], userId: USER, seq: current.seq, data: { status: 'executing', progress: current.progress, currentNode: 'KSampler', currentNodeId: samplerId, previewImage: null } },
    ]);
    for (const id of ids) await h.service.cancel(USER, id);
  });

  it('answers for another user’s generation and images exactly as for missing ones', async () => {
    h = await harness();
    const { generationId } = await h.service.generate(USER, SERVER, request(1));
    await eventOf(h, generationId, 'complete');
    const errorOf = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        return isComfyVastError(err) ? { code: err.code, message: err.message.replace(/\d+/g, 'N') } : err;
      }
      return 'no error';
    };
    const missing = await errorOf(() => h.service.getProgress(USER, 999));
    expect(missing).toEqual({ code: 'NOT_FOUND', message: 'Generation N not found' });
    expect(await errorOf(() => h.service.getProgress(OTHER_USER, generationId))).toEqual(missing);
    expect(await errorOf(() => h.service.cancel(OTHER_USER, generationId))).toEqual(missing);
    const imageMissing = await errorOf(() => h.service.getImage(USER, '999_1.png'));
    expect(await errorOf(() => h.service.getImage(OTHER_USER, `${generationId}_1.png`))).toEqual(imageMissing);
    expect(await errorOf(() => h.service.getImage(USER, `../${generationId}_1.png`))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('runs the workflow a request names, through resolveWorkflow, with the parameters injected', async () => {
    const sd15 = builtinPrompt(2)!;
    const missing = (id: number) => new ComfyVastError('NOT_FOUND', `Workflow ${id} not found`);
    h = await harness({}, { resolveWorkflow: async (_userId, id) => (id === 7 ? sd15 : Promise.reject(missing(id))) });
    // Built-in workflows stay reachable by their ids; unknown ids are NOT_FOUND.
    const builtin = await h.service.generate(USER, SERVER, { ...request(1), workflowId: 1 });
    expect(Object.values(h.service.get(USER, builtin.generationId).apiPrompt).some((n) => (n as { class_type: string }).class_type === 'VAELoader')).toBe(true);
    expect(isComfyVastError(await h.service.generate(USER, SERVER, { ...request(1), workflowId: 99 }).catch((e: unknown) => e), 'NOT_FOUND')).toBe(true);
    const { generationId, seed } = await h.service.generate(USER, SERVER, { ...request(3, { seed: 42 }), workflowId: 7 });
    await eventOf(h, generationId, 'complete');
    const prompt = h.service.get(USER, generationId).apiPrompt as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const sampler = Object.values(prompt).find((n) => n.class_type === 'KSampler')!;
    expect(sampler.inputs).toMatchObject({ seed: 42, steps: 3 });
    expect(seed).toBe(42);
    expect(Object.values(prompt).find((n) => n.class_type === 'CheckpointLoaderSimple')!.inputs.ckpt_name).toBe(sd15[Object.keys(sd15).find((k) => sd15[k]!.class_type === 'CheckpointLoaderSimple')!]!.inputs.ckpt_name);
  });

  it('fails with the spec’s error event when the sampler runs out of memory', async () => {
    h = await harness({ faults: [{ kind: 'oom' }] });
    const { generationId } = await h.service.generate(USER, SERVER, request(4));
    const event = await eventOf(h, generationId, 'error');
    expect(event.data).toEqual({ error: 'Out of memory', node: 'KSampler', details: expect.stringMatching(/^CUDA out of memory\. Tried to allocate/), status: 'failed' });
    expect(h.service.getProgress(USER, generationId).status).toBe('failed');
    expect(h.service.finalEvent(USER, generationId)).toEqual(event);
  });

  it('refuses with WORKFLOW_INVALID, SERVER_NOT_RUNNING and COMFY_CONNECTION_FAILED', async () => {
    h = await harness({ models: { checkpoints: [] } });
    const invalid = await h.service.generate(USER, SERVER, request(1)).catch((e: unknown) => e);
    expect(isComfyVastError(invalid, 'WORKFLOW_INVALID')).toBe(true);
    expect(h.service.listHistory(USER, SERVER).items[0]).toMatchObject({ status: 'failed', error: { error: 'Workflow invalid' } });
    h.servers.set(SERVER, { userId: 1, status: 'stopped' });
    expect(isComfyVastError(await h.service.generate(USER, SERVER, request(1)).catch((e: unknown) => e), 'SERVER_NOT_RUNNING')).toBe(true);
    h.servers.set(SERVER, { userId: 1, status: 'running' });
    await h.comfy.close();
    expect(isComfyVastError(await h.service.generate(USER, SERVER, request(1)).catch((e: unknown) => e), 'COMFY_CONNECTION_FAILED')).toBe(true);
    expect(isComfyVastError(await h.service.generate(USER, SERVER, { prompt: '' }).catch((e: unknown) => e), 'VALIDATION_ERROR')).toBe(true);
  });
});
