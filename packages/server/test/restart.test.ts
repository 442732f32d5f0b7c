import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@comfy-vast/server/client';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Run } from './cli-process.js';
import { ADMIN_TOKEN, until } from './helpers.js';

let vast: FakeVast;
let dataDir: string;
let current: Run | undefined;

beforeAll(async () => {
  vast = await startFakeVast({ speed: 100 });
  dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-restart-'));
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

describe('the vast provider against a fake Vast.ai started separately', () => {
  it('provisions, and a server killed mid-generation completes it with its images after a restart', async () => {
    const first = serve();
    const api = createClient({ baseUrl: await first.url, token: ADMIN_TOKEN });
    const created = await api.createServer({ body: { name: 'GPU Server 1', gpu: 'RTX 4090', gpuCount: 1, location: 'US-East' } });
    await until(() => api.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched, 60_000);

    const started = await api.generate({ params: { serverId: created.id }, body: { prompt: 'survives a crash', parameters: { steps: 250 } } });
    await until(() => api.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'executing' && p.progress > 5);
    first.child.kill('SIGKILL');
    await first.exit;

    const second = serve();
    const again = createClient({ baseUrl: await second.url, token: ADMIN_TOKEN });
    const done = await until(() => again.getProgress({ params: { generationId: started.generationId } }), (p) => p.status !== 'executing' && p.status !== 'queued', 60_000);
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    const [item] = await again.listGenerations({ params: { serverId: created.id } });
    expect(item!.imageUrls.length).toBeGreaterThan(0);
    const image = await fetch(`${await second.url}${item!.imageUrls[0]}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(image.headers.get('content-type')).toBe('image/png');

    await again.stopServer({ params: { id: created.id } });
    await until(() => again.getServer({ params: { id: created.id } }), (s) => s.status === 'stopped', 30_000);
    await again.startServer({ params: { id: created.id } });
    await until(() => again.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched, 60_000);
    await again.deleteServer({ params: { id: created.id } });
    expect(await again.listServers()).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 180_000);
});
