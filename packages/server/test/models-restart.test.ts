import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@comfy-vast/server/client';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Run } from './cli-process.js';
import { ADMIN_TOKEN, until } from './helpers.js';

// A model download outlives a crash of the API server: the job runs on in the fake instance's SSH host, and the next
// process re-attaches to it from the stored record instead of starting another.
let vast: FakeVast;
let dataDir: string;
let current: Run | undefined;

beforeAll(async () => {
  // Twenty progress lines 200 ms apart: a download takes about four seconds.
  vast = await startFakeVast({ speed: 100, sshHosts: { tickMs: 20_000 } });
  dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-models-restart-'));
});
afterAll(async () => {
  current?.child.kill('SIGKILL');
  await vast.close();
  await rm(dataDir, { recursive: true, force: true });
});

function serve(): Run {
  current = run(['serve', '--data-dir', dataDir], {
    COMFY_VAST_PROVIDER: 'vast',
    VAST_API_KEY: vast.apiKey,
    VAST_API_URL: vast.url,
    COMFY_VAST_POLL_SECONDS: '1',
    COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  return current;
}

describe('a model download across a crash of the API server', () => {
  it('is re-attached to its remote job after the restart, and completes without a second job', async () => {
    const first = serve();
    const api = createClient({ baseUrl: await first.url, token: ADMIN_TOKEN });
    const created = await api.createServer({ body: { name: 'GPU Server 1', gpu: 'RTX 4090', gpuCount: 1 } });
    const running = await until(() => api.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched, 60_000);
    const host = vast.ssh(Number(running.vastId))!.host;

    const started = await api.downloadModel({ params: { serverId: created.id }, body: { url: 'https://huggingface.co/model1.safetensors', folder: 'checkpoints', filename: 'model1.safetensors' } });
    await until(() => api.getDownload({ params: { downloadId: started.downloadId } }), (d) => d.status === 'downloading' && d.progress > 5);
    first.child.kill('SIGKILL');
    await first.exit;

    const second = serve();
    const again = createClient({ baseUrl: await second.url, token: ADMIN_TOKEN });
    const done = await until(() => again.getDownload({ params: { downloadId: started.downloadId } }), (d) => d.status !== 'downloading' && d.status !== 'queued', 60_000);
    expect(done).toMatchObject({ status: 'completed', progress: 100, downloadedBytes: 64 * 1024 * 1024 });
    const jobs = host.snapshot().jobs.filter((job) => job.kind === 'download');
    expect(jobs).toHaveLength(1);
    expect(host.models.get('checkpoints/model1.safetensors')).toMatchObject({ partial: false, bytes: 64 * 1024 * 1024 });
    second.child.kill('SIGTERM');
    await second.exit;
  }, 120_000);
});
