import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelDownloads, type DownloadTarget, type DownloadView } from '../../src/models/model-downloads.js';
import type { SshRunner } from '../../src/remote/ssh-runner.js';
import { MemoryStore } from '../../src/store/index.js';
import { modelBody, type FileServer } from '../remote/helpers/fixtures.js';
import { startRemoteBench, type RemoteBench } from '../remote/helpers/remote-bench.js';
import { endpointOf } from '../remote/helpers/runner.js';
import type { PrivateSshd } from '../remote/helpers/sshd.js';
import { SSHD_TIMEOUT } from '../remote/helpers/sshd.js';

// The download service on a real sshd running remote.sh, fetching from the loopback file server.
let bench: RemoteBench | undefined;
let sshd: PrivateSshd;
let files: FileServer;
let runner: SshRunner;
let target: DownloadTarget;

beforeAll(async () => {
  bench = await startRemoteBench();
  ({ sshd, files, runner } = bench);
  target = { ...endpointOf(sshd), modelsDir: `${sshd.dir}/models` };
});

afterAll(() => bench?.stop());

const downloadsOn = () => new ModelDownloads({ store: new MemoryStore(), remoteOf: () => ({ runner, target }) });

describe('ModelDownloads on remote.sh', SSHD_TIMEOUT, () => {
  it('runs at most five downloads per server, queues the rest, and treats a repeated request as the same download', async () => {
    files.hold();
    const downloads = downloadsOn();
    const seen: DownloadView[] = [];
    downloads.on('download', (view) => seen.push(view));
    const bodies = [...Array(7).keys()].map((i) => modelBody(600_000, 100 + i));
    const views: DownloadView[] = [];
    for (const [i, b] of bodies.entries()) {
      const url = files.addModel(`m${i}.safetensors`, b.body);
      views.push((await downloads.request(1, 1, { url, folder: 'loras', filename: `m${i}.safetensors`, sha256: b.sha256 })).download);
    }
    expect(new Set(views.map((v) => v.downloadId)).size).toBe(7);

    const again = await downloads.request(1, 1, { url: `${files.url}/models/m3.safetensors`, folder: 'loras', filename: 'm3.safetensors' });
    expect(again).toMatchObject({ created: false, download: { downloadId: views[3]!.downloadId } });

    // While the first five run (held by the file server until all five have started), the last two wait.
    await expect.poll(() => files.active, { timeout: 15_000 }).toBe(5);
    expect(views.slice(5).map((v) => downloads.get(1, v.downloadId).status)).toEqual(['queued', 'queued']);
    files.throttle(40);
    files.release();

    const finals = await Promise.all(views.map((v) => downloads.settled(v.downloadId)));
    expect(finals.map((v) => v!.status)).toEqual(Array(7).fill('completed'));
    expect(files.maxActive).toBe(5);
    expect(finals[0]).toMatchObject({ progress: 100, downloadedBytes: 600_000, totalBytes: 600_000 });
    for (let i = 0; i < 7; i++) expect(sshd.asUser('sha256sum', [`${target.modelsDir}/loras/m${i}.safetensors`]).slice(0, 64)).toBe(bodies[i]!.sha256);
    // The repeated request fetched nothing more: one GET per file (HEADs aside).
    expect(files.requests.filter((r) => r.method === 'GET' && r.path === '/models/m3.safetensors')).toHaveLength(1);
    expect(seen.some((v) => v.status === 'downloading' && v.totalBytes === 600_000)).toBe(true);
    files.throttle(0);
  });

  it('reports a checksum mismatch as failed, and refuses invalid requests before anything runs', async () => {
    const downloads = downloadsOn();
    const { body } = modelBody(50_000, 300);
    const { download } = await downloads.request(1, 1, { url: files.addModel('wrong.safetensors', body), folder: 'vae', filename: 'wrong.safetensors', sha256: 'd'.repeat(64) });
    expect(await downloads.settled(download.downloadId)).toMatchObject({ status: 'failed', error: 'sha256 mismatch' });
    await expect(downloads.request(1, 1, { url: 'file:///etc/passwd', folder: 'vae', filename: 'x.safetensors' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(downloads.request(1, 1, { url: `${files.url}/x`, folder: 'custom_nodes', filename: 'x.safetensors' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('cancels a running download: the remote job stops and its partial file is removed', async () => {
    files.throttle(60);
    const downloads = downloadsOn();
    const { body } = modelBody(3_000_000, 301);
    const { download } = await downloads.request(1, 1, { url: files.addModel('stop.safetensors', body), folder: 'loras', filename: 'stop.safetensors' });
    await expect.poll(() => downloads.get(1, download.downloadId).downloadedBytes, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await downloads.cancel(1, download.downloadId)).toMatchObject({ status: 'cancelled' });
    expect(await downloads.settled(download.downloadId)).toMatchObject({ status: 'cancelled' });
    await expect.poll(() => files.active, { timeout: 15_000 }).toBe(0);
    expect(sshd.asUser('ls', [`${target.modelsDir}/loras`])).not.toMatch(/stop\.safetensors/);
    files.throttle(0);
  });
});
