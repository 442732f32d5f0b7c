import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { ComfyVast, openRedis, silentLogger, type GenerationEvent, type Redis } from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

const pg = postgresHarness();
/** Short, so that a process that is gone counts as gone within a test; adoption looks twice per ttl. */
const TTL_MS = 1_000;

let redis: PrivateRedis;
let comfy: FakeComfy;
let imagesDir: string;
const clients: Redis[] = [];
const facades: ComfyVast[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  imagesDir = await mkdtemp(join(tmpdir(), 'comfy-vast-replica-images-'));
}, 60_000);
afterEach(async () => {
  for (const f of facades.splice(0).reverse()) await f.close().catch(() => undefined);
  for (const c of clients.splice(0)) c.disconnect();
  await comfy?.close();
});
afterAll(async () => {
  await redis?.stop();
  await rm(imagesDir, { recursive: true, force: true });
});

/** One API process: its own PostgresStore on the shared schema, its own Redis connection, the shared images folder. */
async function replica(schema: string): Promise<{ facade: ComfyVast; redis: Redis; events: GenerationEvent[] }> {
  const client = await openRedis({ url: redis.url, logger: silentLogger });
  clients.push(client);
  const store = await pg.open({ schema });
  const facade = await ComfyVast.open({ store, redis: client, imagesDir, leaseTtlMs: TTL_MS });
  facades.push(facade);
  const events: GenerationEvent[] = [];
  facade.on('generation:event', (e) => events.push(e));
  return { facade, redis: client, events };
}

const eventually = <T>(check: () => T, timeout = 15_000) => vi.waitFor(check, { timeout, interval: 20 });
const ends = (events: GenerationEvent[], id: number) => events.filter((e) => e.generationId === id && e.type !== 'progress');

/**
 * Two processes on a new schema and a fake ComfyUI of `stepMs` a step, with a user and that ComfyUI attached
 * through process `a`, once process `b` knows them too.
 */
async function twoProcesses(stepMs: number) {
  comfy = await startFakeComfy({ timing: { nodeMs: stepMs / 2, stepMs, speed: 1 } });
  const schema = pg.schema();
  const [a, b] = [await replica(schema), await replica(schema)];
  const { user } = await a.facade.users.createUser('ann');
  const server = await a.facade.createServer(user.id, { name: 'desk', comfyUrl: comfy.url });
  await eventually(() => expect(b.facade.getServer(user.id, server.id).name).toBe('desk'));
  return { a, b, userId: user.id, serverId: server.id };
}

describe('API processes on one PostgreSQL and one Redis', () => {
  it('shows a generation submitted on one process to the other’s listeners, in order, with its images', async () => {
    const { a, b, userId, serverId } = await twoProcesses(5);

    const { generationId } = await b.facade.generate(userId, serverId, { prompt: 'a lighthouse', parameters: { steps: 20, width: 64, height: 64 } });
    // Its progress reaches a from the moment a follows it (as the API does for a subscriber); its end in any case.
    a.facade.followGeneration(userId, generationId);
    await eventually(() => expect(ends(a.events, generationId)).toHaveLength(1));
    const seen = a.events.filter((e) => e.generationId === generationId);
    expect(seen.filter((e) => e.type === 'progress').length).toBeGreaterThan(5);
    const sent = b.events.filter((e) => e.generationId === generationId).map((e) => e.seq);
    expect(seen.map((e) => e.seq)).toEqual(sent.slice(sent.length - seen.length));
    expect(seen.at(-1)).toMatchObject({ type: 'complete', data: { status: 'completed', images: [expect.any(String)] } });
    // Process a answers for it: the record reached it, and the image is in the folder both use.
    await eventually(() => expect(a.facade.getProgress(userId, generationId).status).toBe('completed'));
    const [file] = (seen.at(-1) as Extract<GenerationEvent, { type: 'complete' }>).data.images;
    expect((await a.facade.getImage(userId, file!)).size).toBeGreaterThan(0);
  });

  it('adopts the generations of a process cut off from Redis: they complete once, on their first submission, seq going on', async () => {
    const { a, b, userId, serverId } = await twoProcesses(40);

    const { generationId } = await a.facade.generate(userId, serverId, { prompt: 'a slow one', parameters: { steps: 100, width: 64, height: 64 } });
    b.facade.followGeneration(userId, generationId);
    await eventually(() => expect(b.events.filter((e) => e.generationId === generationId).length).toBeGreaterThan(3));
    // Process a loses Redis (as a process killed outright does): its presence lapses and b takes the generation over.
    a.redis.disconnect();
    await eventually(() => expect(ends(b.events, generationId)).toHaveLength(1), 30_000);
    const record = b.facade.getProgress(userId, generationId);
    expect(record.status).toBe('completed');
    const fromB = b.events.filter((e) => e.generationId === generationId);
    const seqs = fromB.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // ComfyUI ran it once: nothing waits in its queue, and a stored one complete event.
    expect(comfy.queueRemaining()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ends(b.events, generationId)).toHaveLength(1);
    // Every process that heard of its end heard of the same one.
    expect(new Set([...ends(a.events, generationId), ...ends(b.events, generationId)].map((e) => `${e.type} ${e.seq}`)).size).toBe(1);
  }, 60_000);

  it('hands the generations of a process that closes to another at once, without waiting for its presence to lapse', async () => {
    const { a, b, userId, serverId } = await twoProcesses(40);
    const { generationId } = await a.facade.generate(userId, serverId, { prompt: 'handed over', parameters: { steps: 60, width: 64, height: 64 } });
    b.facade.followGeneration(userId, generationId);
    await eventually(() => expect(b.events.filter((e) => e.generationId === generationId).length).toBeGreaterThan(2));
    await a.facade.close();
    await eventually(() => expect(ends(b.events, generationId)).toMatchObject([{ type: 'complete' }]), 30_000);
  }, 60_000);
});
