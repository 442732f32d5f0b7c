import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { ComfyVast, openRedis, silentLogger, type Redis } from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

// The per-server download cap with two API processes on one PostgreSQL schema and one Redis: downloads of one
// server requested through either process share its slots, on a server of the fake Vast.ai (a fake SSH host).
const pg = postgresHarness();
const PER_SERVER = 2;

let redis: PrivateRedis;
let vast: FakeVast | undefined;
const clients: Redis[] = [];
const facades: ComfyVast[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
}, 60_000);
afterEach(async () => {
  for (const f of facades.splice(0).reverse()) await f.close().catch(() => undefined);
  for (const c of clients.splice(0)) c.disconnect();
  await vast?.close();
  vast = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await redis?.stop();
});

async function replica(schema: string): Promise<ComfyVast> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-replica-'));
  dirs.push(dataDir);
  const client = await openRedis({ url: redis.url, logger: silentLogger });
  clients.push(client);
  const store = await pg.open({ schema });
  const facade = await ComfyVast.open({
    store,
    redis: client,
    leaseTtlMs: 1_000,
    dataDir,
    models: { perServer: PER_SERVER },
    vast: { apiKey: vast!.apiKey, baseUrl: vast!.url, pollIntervalMs: 500 },
  });
  facades.push(facade);
  return facade;
}

const eventually = <T>(check: () => T, timeout = 30_000) => vi.waitFor(check, { timeout, interval: 20 });

describe('the download cap with several API processes', () => {
  it('runs at most perServer downloads of one server at once, whichever process each was requested through, and completes them all', async () => {
    vast = await startFakeVast({ speed: 100 });
    const schema = pg.schema();
    const [a, b] = [await replica(schema), await replica(schema)];
    const { user } = await a.users.createUser('ann');
    const server = await a.createServer(user.id, { name: 'shared', gpu: 'RTX 4090' });
    await eventually(() => expect(a.getServer(user.id, server.id).status).toBe('running'));
    await eventually(() => expect(b.getServer(user.id, server.id).status).toBe('running'));
    const host = vast.ssh(a.getServer(user.id, server.id).vastId!)!.host;
    host.setTickMs(60);
    const running = () => host.snapshot().jobs.filter((j) => j.id.startsWith('dl-') && j.rc === null).length;

    // Sampled every few milliseconds while the downloads run. The records are not counted: a process hears of the
    // other's changes a little later, so its view can show an ended download still running beside a new one.
    let most = 0;
    const ids: number[] = [];
    const sampler = setInterval(() => (most = Math.max(most, running())), 5);
    try {
      const requests = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).downloadModel(user.id, server.id, { url: `https://example.com/m${i}.safetensors`, folder: 'loras', filename: `m${i}.safetensors` }));
      for (const { download, created } of await Promise.all(requests)) {
        expect(created).toBe(true);
        ids.push(download.downloadId);
      }
      await eventually(() => expect(ids.map((id) => a.getDownload(user.id, id).status)).toEqual(ids.map(() => 'completed')), 60_000);
    } finally {
      clearInterval(sampler);
    }

    expect(most).toBe(PER_SERVER);
    // Each fetched once, none lost: one job per download on the host, every file whole.
    expect(host.snapshot().jobs.filter((j) => j.id.startsWith('dl-'))).toHaveLength(8);
    for (let i = 0; i < 8; i++) expect(host.models.get(`loras/m${i}.safetensors`)).toMatchObject({ partial: false });
    await eventually(() => expect(ids.map((id) => b.getDownload(user.id, id).status)).toEqual(ids.map(() => 'completed')));
  }, 120_000);
});
