import { describe, expect, it, vi } from 'vitest';
import { ComfyVast } from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';
import { useClusterRig } from './helpers/cluster.js';

// The per-server download cap with two API processes on one PostgreSQL schema and one Redis: downloads of one
// server requested through either process share its slots, on a server of the fake Vast.ai (a fake SSH host).
const pg = postgresHarness();
const rig = useClusterRig();
const PER_SERVER = 2;

async function replica(schema: string): Promise<ComfyVast> {
  const dataDir = await rig.dataDir();
  const client = await rig.redis();
  const store = await pg.open({ schema });
  const facade = await ComfyVast.open({
    store,
    redis: client,
    leaseTtlMs: 1_000,
    dataDir,
    models: { perServer: PER_SERVER },
    vast: { apiKey: rig.vast.apiKey, baseUrl: rig.vast.url, pollIntervalMs: 500 },
  });
  return rig.track(facade);
}

const eventually = <T>(check: () => T, timeout = 30_000) => vi.waitFor(check, { timeout, interval: 20 });

describe('the download cap with several API processes', () => {
  it('runs at most perServer downloads of one server at once, whichever process each was requested through, and completes them all', async () => {
    await rig.startVast();
    const schema = pg.schema();
    const [a, b] = [await replica(schema), await replica(schema)];
    const { user } = await a.users.createUser('ann');
    const server = await a.createServer(user.id, { name: 'shared', gpu: 'RTX 4090' });
    await eventually(() => expect(a.getServer(user.id, server.id).status).toBe('running'));
    await eventually(() => expect(b.getServer(user.id, server.id).status).toBe('running'));
    const host = rig.vast.ssh(a.getServer(user.id, server.id).vastId!)!.host;
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
