import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, isComfyVastError, ManualClock, SlidingWindowLimiter } from '@comfy-vast/core';
import { eventOf, harness, request, SERVER, USER, type Harness } from './setup.js';

let h: Harness;
afterEach(async () => h?.cleanup());

describe('GenerationService cancel, restart and limits', () => {
  it('cancels a running generation by interrupting it', async () => {
    h = await harness({ faults: [{ kind: 'hang' }] });
    const { generationId } = await h.service.generate(USER, SERVER, request(4));
    await eventOf(h, generationId, 'progress', (e) => e.type === 'progress' && e.data.currentNode === 'KSampler');
    const cancelled = eventOf(h, generationId, 'error');
    await h.service.cancel(USER, generationId);
    expect((await cancelled).data).toEqual({ error: 'Generation cancelled', node: null, details: 'Cancelled by the user', status: 'cancelled' });
    expect(h.service.getProgress(USER, generationId).status).toBe('cancelled');
    await expect.poll(() => h.comfy.queueRemaining()).toBe(0);
  });

  it('cancels a pending generation by removing it from ComfyUI’s queue', async () => {
    h = await harness({ faults: [{ kind: 'hang' }] });
    const running = await h.service.generate(USER, SERVER, request(2, { seed: 1 }));
    const pending = await h.service.generate(USER, SERVER, request(2, { seed: 2 }));
    expect(pending.queuePosition).toBe(2);
    expect(h.comfy.queueRemaining()).toBe(2);
    const progress = await h.service.cancel(USER, pending.generationId);
    expect(progress.status).toBe('cancelled');
    expect(h.comfy.queueRemaining()).toBe(1);
    expect(h.service.getProgress(USER, running.generationId).status).not.toBe('cancelled');
    await h.service.cancel(USER, running.generationId);
  });

  it('completes a generation across a restart of the service, with its images', async () => {
    h = await harness({ timing: { speed: 1, stepMs: 15, nodeMs: 5 } });
    const { generationId } = await h.service.generate(USER, SERVER, request(30));
    await eventOf(h, generationId, 'progress', (e) => e.type === 'progress' && e.data.currentNode === 'KSampler');
    const before = h.service.getProgress(USER, generationId).progress;
    const service = await h.restart();
    const complete = await eventOf(h, generationId, 'complete');
    expect(complete.data).toMatchObject({ status: 'completed', images: [`${generationId}_1.png`] });
    expect((await service.getImage(USER, `${generationId}_1.png`)).size).toBeGreaterThan(0);
    const progress = h.events.flatMap((e) => (e.type === 'progress' && e.generationId === generationId ? [e.data.progress] : []));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)!).toBeGreaterThan(before);
    const seqs = h.events.filter((e) => e.generationId === generationId).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('completes, on start, a generation that finished while the service was down', async () => {
    h = await harness();
    const { generationId } = await h.service.generate(USER, SERVER, request(2));
    await h.service.close();
    await expect.poll(() => h.comfy.queueRemaining()).toBe(0);
    expect(h.service.getProgress(USER, generationId).status).not.toBe('completed');
    const service = await h.restart();
    await expect.poll(() => service.getProgress(USER, generationId).status).toBe('completed');
    expect(service.get(USER, generationId).images).toEqual([`${generationId}_1.png`]);
  });

  it('fails, on start, generations whose server is no longer running, with a reason', async () => {
    h = await harness({ faults: [{ kind: 'hang' }] });
    const { generationId } = await h.service.generate(USER, SERVER, request(2));
    await h.service.close();
    h.servers.set(SERVER, { userId: USER, status: 'stopped' });
    const service = await h.restart();
    expect(service.get(USER, generationId)).toMatchObject({ status: 'failed', error: { error: 'Generation lost', details: expect.stringContaining('not running') } });
  });

  it('refuses the generation past the per-minute limit with RATE_LIMIT_EXCEEDED', async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowLimiter({ rules: DEFAULT_LIMITS.generations, clock });
    h = await harness({ faults: [{ kind: 'hang' }] }, { limiter });
    for (let i = 0; i < 10; i++) await h.service.generate(USER, SERVER, request(1, { seed: i }));
    const refused = await h.service.generate(USER, SERVER, request(1)).catch((e: unknown) => e);
    expect(isComfyVastError(refused, 'RATE_LIMIT_EXCEEDED')).toBe(true);
    for (const g of h.service.listActive(USER)) await h.service.cancel(USER, g.generationId);
  });
});
