import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { ComfyVastError, GenerationService, ManualClock, MemoryStore, type GenerationEvent, type Store } from '@comfy-vast/core';
import { request, SERVER, USER } from './setup.js';

/**
 * Two processes' generation services on one store (a shared MemoryStore stands in for PostgreSQL kept coherent by
 * its change feed, which the replica tests cover): each follows what it submitted; one adopts what the other left.
 */
describe('GenerationService with several processes', () => {
  let comfy: FakeComfy;
  let dataDir: string;
  const services: GenerationService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    await comfy?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function setUp() {
    comfy = await startFakeComfy({ timing: { nodeMs: 20, stepMs: 20, speed: 1 } });
    dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-own-'));
    const store: Store = new MemoryStore();
    const clock = new ManualClock(Date.parse('2026-01-01T12:00:00Z'));
    const alive = new Set<string>();
    const events: (GenerationEvent & { by: string })[] = [];
    const targets = {
      async getComfyTarget(userId: number, serverId: number) {
        if (userId !== USER || serverId !== SERVER) throw new ComfyVastError('SERVER_NOT_FOUND', `Server ${serverId} not found`);
        return { url: comfy.url, status: 'running' };
      },
    };
    const process = (self: string) => {
      alive.add(self);
      const service = new GenerationService({ store, clock, dataDir, targets, ownership: { self, alive: async (owners) => new Set(owners.filter((o) => alive.has(o))) } });
      for (const type of ['progress', 'complete', 'error'] as const) service.on(type, (e) => void events.push({ ...e, by: self }));
      services.push(service);
      return service;
    };
    return { store, alive, events, process };
  }

  it('leaves a live process’s generation alone, and adopts it once that process is gone: it completes once, its seq going on', async () => {
    const { alive, events, process } = await setUp();
    const a = process('a');
    const b = process('b');
    const { generationId } = await a.generate(USER, SERVER, request(60));
    await expect.poll(() => events.filter((e) => e.type === 'progress' && e.by === 'a').length, { timeout: 10_000 }).toBeGreaterThan(3);
    expect(a.get(USER, generationId).owner).toBe('a');

    await b.adoptOrphans();
    expect(a.get(USER, generationId).owner).toBe('a');
    expect(events.some((e) => e.by === 'b')).toBe(false);

    // Process a dies: its sockets close with it, and it no longer counts as alive.
    await a.close();
    alive.delete('a');
    const seqBefore = b.get(USER, generationId).seq;
    await b.adoptOrphans();
    expect(b.get(USER, generationId).owner).toBe('b');
    await expect.poll(() => events.find((e) => e.type === 'complete'), { timeout: 15_000 }).toBeDefined();
    const fromB = events.filter((e) => e.by === 'b');
    expect(fromB.filter((e) => e.type === 'complete')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'complete' || e.type === 'error')).toHaveLength(1);
    // b heard the rest of the run on a's client id: progress, not only the end.
    expect(fromB.filter((e) => e.type === 'progress').length).toBeGreaterThan(0);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(fromB[0]!.seq).toBe(seqBefore + 1);
    expect(b.get(USER, generationId)).toMatchObject({ status: 'completed', images: [expect.stringMatching(new RegExp(`^${generationId}_1\\.`))] });
    expect(comfy.queueRemaining()).toBe(0);
  });

  it('cancels through another process: the prompt is dropped from ComfyUI, and the following process lets it go without a second event', async () => {
    const { events, process } = await setUp();
    const a = process('a');
    const b = process('b');
    comfy.injectFault({ kind: 'hang' });
    const { generationId } = await a.generate(USER, SERVER, request(4));
    await expect.poll(() => events.some((e) => e.type === 'progress' && e.data.status === 'executing'), { timeout: 10_000 }).toBe(true);
    const cancelled = await b.cancel(USER, generationId);
    expect(cancelled.status).toBe('cancelled');
    a.remoteChanged([generationId]);
    await expect.poll(() => comfy.queueRemaining(), { timeout: 10_000 }).toBe(0);
    const ends = events.filter((e) => e.type !== 'progress');
    expect(ends).toMatchObject([{ type: 'error', by: 'b', data: { status: 'cancelled' } }]);
    // Nothing more from a: ComfyUI's own "interrupted" did not end it a second time.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.filter((e) => e.type !== 'progress')).toHaveLength(1);
  });
});
