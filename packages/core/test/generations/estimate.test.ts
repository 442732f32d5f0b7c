import { afterEach, describe, expect, it } from 'vitest';
import { eventOf, harness, request, SERVER, USER, type Harness } from './setup.js';

let h: Harness;
afterEach(async () => h?.cleanup());

describe('the estimatedTime of a new generation', () => {
  it('comes from the workflow’s estimate on a server without timings, then from the server’s own timings', async () => {
    h = await harness({}, { gpuOf: () => 'RTX 4090', silenceMs: 12_000 });
    // 2 steps at 64×64 are next to no sampling: the fixed 4 s of loading and saving, ±20 % on a known GPU.
    const first = await h.service.generate(USER, SERVER, request(2, { seed: 1 }));
    expect(first.estimatedTime).toBe('3-5 seconds');
    await eventOf(h, first.generationId, 'complete');

    // A run that takes 12 s on the injected clock: ComfyUI's socket says nothing, its end is read after 12 s of silence.
    h.comfy.injectFault({ kind: 'mute' });
    const timed = await h.service.generate(USER, SERVER, request(2, { seed: 2 }));
    await expect.poll(() => h.comfy.queueRemaining()).toBe(0);
    await h.clock.advance(12_000);
    await eventOf(h, timed.generationId, 'complete');
    expect(h.service.get(USER, timed.generationId).executionTime).toBe(12);

    // The first run (0 s on the unmoved clock) tells nothing; the 12 s one is this server's timing, ±15 % for one sample.
    h.comfy.injectFault({ kind: 'hang' });
    const next = await h.service.generate(USER, SERVER, request(2, { seed: 3 }));
    expect(next.estimatedTime).toBe('10-14 seconds');
    const queued = await h.service.generate(USER, SERVER, request(2, { seed: 4 }));
    expect(queued).toMatchObject({ queuePosition: 2, estimatedTime: '20-28 seconds' });
    for (const g of h.service.listActive(USER)) await h.service.cancel(USER, g.generationId);
  });

  it('is the workflow’s wider estimate when the GPU is unknown, never a constant', async () => {
    h = await harness({ faults: [{ kind: 'hang' }] });
    const small = await h.service.generate(USER, SERVER, request(2, { seed: 1 }));
    // Unknown GPU: 4 s of fixed costs, halved to doubled.
    expect(small.estimatedTime).toBe('2-8 seconds');
    const large = await h.service.generate(USER, SERVER, { prompt: 'big', parameters: { steps: 60, width: 2048, height: 2048, seed: 2 } });
    expect(large.estimatedTime).toMatch(/^\d+-\d+ minutes$/);
    for (const g of h.service.listActive(USER)) await h.service.cancel(USER, g.generationId);
  });
});
