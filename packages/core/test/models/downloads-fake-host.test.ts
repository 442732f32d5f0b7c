import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisRateLimiter, SlidingWindowLimiter, type RateLimiter, type RateLimitRule } from '../../src/limits/index.js';
import { jobId, type DownloadView } from '../../src/models/model-downloads.js';
import { buildModelListing } from '../../src/models/model-listing.js';
import { ModelUrlLookup } from '../../src/models/url-lookup.js';
import type { RemoteLine } from '../../src/remote/lines.js';
import { ManualClock } from '../../src/util/index.js';
import { MODELS, useFakeHost } from './helpers/fake-host.js';

// ModelDownloads against the testkit's fake SSH host, which simulated servers use: the line protocol, the cap,
// the daily allowance, cancelling, a restart of ours mid-download, and the URL lookups.
const SHA = 'b'.repeat(64);
const rig = useFakeHost({ remoteFiles: { 'https://example.com/good.safetensors': { bytes: 4000, sha256: SHA } } });
const downloads = rig.downloads;
const model = (name: string, folder = 'loras', url = `https://example.com/${name}`) => ({ url, folder, filename: name });

describe('downloads on the fake host', () => {
  it('follows the line protocol to completion, then lists the file with its size', async () => {
    const service = downloads();
    const seen: DownloadView[] = [];
    service.on('download', (view) => seen.push(view));
    const { download, created } = await service.request(7, 3, { ...model('good.safetensors'), sha256: SHA });
    expect(created).toBe(true);
    expect(await service.settled(download.downloadId)).toMatchObject({ status: 'completed', progress: 100, downloadedBytes: 4000, totalBytes: 4000, userId: 7, serverId: 3 });
    expect(seen.map((v) => v.status)).toEqual(expect.arrayContaining(['queued', 'downloading', 'completed']));
    expect(seen.filter((v) => v.status === 'downloading').map((v) => v.downloadedBytes)).toContain(2000);

    const files: Extract<RemoteLine, { kind: 'file' }>['line'][] = [];
    await rig.runner.run(rig.where(), ['models', '--models', MODELS], {
      onLine: (l) => void (l.kind === 'file' && files.push(l.line)),
    });
    const listing = buildModelListing({ comfy: rig.fake.host.modelFiles(), files, pending: [], modelsDir: MODELS });
    expect(listing.loras).toEqual([{ name: 'good.safetensors', size: '4.00 KB', bytes: 4000, downloaded: true, path: `${MODELS}/loras/` }]);
  });

  it('fails a checksum mismatch and leaves nothing under the final name', async () => {
    const service = downloads();
    const { download } = await service.request(1, 1, { ...model('good.safetensors', 'vae'), sha256: 'c'.repeat(64) });
    expect(await service.settled(download.downloadId)).toMatchObject({ status: 'failed', error: 'sha256 mismatch' });
    expect(rig.fake.host.models.has('vae/good.safetensors')).toBe(false);
  });

  it('says how much disk the server lacks', async () => {
    rig.fake.host.freeBytes = 1000;
    const service = downloads();
    const { download } = await service.request(1, 1, model('big.safetensors'));
    expect(await service.settled(download.downloadId)).toMatchObject({ status: 'failed', error: 'Not enough disk space on the server: 4.00 KB needed, 1.00 KB free' });
  });

  it('runs five downloads per server and queues the sixth until one is over', async () => {
    rig.fake.host.setTickMs(60);
    const service = downloads();
    const views: DownloadView[] = [];
    for (let i = 0; i < 6; i++) views.push((await service.request(1, 1, model(`m${i}.safetensors`))).download);
    expect(views.slice(0, 5).map((v) => v.status)).toEqual(Array(5).fill('downloading'));
    expect(views[5]!.status).toBe('queued');
    expect(service.activity(1).downloads).toBe(6);
    // Another server has its own five.
    expect((await service.request(1, 2, model('other.safetensors'))).download.status).toBe('downloading');
    await expect.poll(() => service.get(1, views[5]!.downloadId).status, { timeout: 10_000 }).toBe('downloading');
    expect(views.slice(0, 5).some((v) => service.get(1, v.downloadId).status === 'completed')).toBe(true);
    const finals = await Promise.all(views.map((v) => service.settled(v.downloadId)));
    expect(finals.map((v) => v!.status)).toEqual(Array(6).fill('completed'));
    expect(service.activity(1)).toMatchObject({ downloads: 0, lastActivityAt: expect.any(Number) });
  });

  it('answers the same file requested twice, at once, with one download', async () => {
    const service = downloads();
    const [a, b] = await Promise.all([service.request(1, 1, model('twice.safetensors')), service.request(1, 1, model('twice.safetensors'))]);
    expect(a.download.downloadId).toBe(b.download.downloadId);
    expect([a.created, b.created].sort()).toEqual([false, true]);
  });

  // The allowance of this process, and the one every process shares through Redis, which answers later.
  const allowances: Array<[string, (rules: RateLimitRule[], clock: ManualClock) => RateLimiter]> = [
    ['its own', (rules, clock) => new SlidingWindowLimiter({ rules, clock })],
    ['shared through Redis', (rules, clock) => new RedisRateLimiter({ redis: rig.redis, rules, clock, name: 'downloadBytes', prefix: `test-${Date.now()}:` })],
  ];
  it.each(allowances)('counts bytes against the daily allowance (%s), refuses with what remains, and has room again a day later', async (_, allowance) => {
    const clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));
    const quota = allowance([{ name: 'day', limit: 10_000, windowMs: 86_400_000 }], clock);
    const service = downloads({ quota, clock });
    for (const name of ['q1.safetensors', 'q2.safetensors']) {
      const { download } = await service.request(1, 1, model(name));
      expect(await service.settled(download.downloadId)).toMatchObject({ status: 'completed' });
    }
    expect((await quota.peek('1')).remaining).toBe(2000);
    // The third starts with 2000 bytes left, and is stopped once it runs past them.
    const { download } = await service.request(1, 1, model('q3.safetensors'));
    expect(await service.settled(download.downloadId)).toMatchObject({ status: 'failed', error: 'Stopped: the daily download allowance is used up' });
    expect(rig.fake.host.models.has('loras/q3.safetensors')).toBe(false);

    const refused = await service.request(1, 1, model('q4.safetensors')).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { remaining: 0, window: 'day', limit: 10_000 } });
    // Another user's allowance is their own.
    expect((await service.request(2, 9, model('q4.safetensors'))).created).toBe(true);

    clock.advance(86_400_001);
    expect((await service.request(1, 1, model('q4.safetensors'))).created).toBe(true);
  });

  it('cancels a running download (its partial file goes) and a queued one (it never starts)', async () => {
    rig.fake.host.setTickMs(80);
    const service = downloads({ perServer: 1 });
    const running = (await service.request(1, 1, model('run.safetensors'))).download;
    const queued = (await service.request(1, 1, model('wait.safetensors'))).download;
    await expect.poll(() => rig.fake.host.models.get('loras/run.safetensors')?.bytes ?? 0, { timeout: 5000 }).toBeGreaterThan(0);

    expect(await service.cancel(1, queued.downloadId)).toMatchObject({ status: 'cancelled' });
    expect(await service.cancel(1, running.downloadId)).toMatchObject({ status: 'cancelled', finishedAt: expect.any(String) });
    expect(await service.settled(running.downloadId)).toMatchObject({ status: 'cancelled' });
    expect(await service.settled(queued.downloadId)).toMatchObject({ status: 'cancelled' });
    expect(rig.fake.host.models.has('loras/run.safetensors')).toBe(false);
    expect(rig.fake.commands.some((c) => c.includes('wait.safetensors'))).toBe(false);
    expect(await rig.jobsOnHost()).toEqual([jobId({ id: running.downloadId, folder: 'loras', filename: 'run.safetensors', url: 'https://example.com/run.safetensors' })]);
    // Over is over: a second cancel answers the same.
    expect(await service.cancel(1, running.downloadId)).toMatchObject({ status: 'cancelled' });
  });

  it('fails the pending downloads of a server that stopped, at once', async () => {
    rig.fake.host.setTickMs(80);
    const service = downloads({ perServer: 1 });
    const running = (await service.request(1, 1, model('cut.safetensors'))).download;
    const queued = (await service.request(1, 1, model('never.safetensors'))).download;
    const elsewhere = (await service.request(1, 2, model('kept.safetensors'))).download;
    await expect.poll(() => rig.fake.host.models.get('loras/cut.safetensors')?.bytes ?? 0, { timeout: 5000 }).toBeGreaterThan(0);
    await service.serverGone(1, 'The server is stopped');
    for (const id of [running.downloadId, queued.downloadId]) expect(await service.settled(id)).toMatchObject({ status: 'failed', error: 'The server is stopped' });
    expect(service.activity(1).downloads).toBe(0);
    expect(await service.settled(elsewhere.downloadId)).toMatchObject({ status: 'completed' });
  });

  it('answers another user’s download as missing', async () => {
    const service = downloads();
    const { download } = await service.request(1, 1, model('mine.safetensors'));
    expect(() => service.get(2, download.downloadId)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await expect(service.cancel(2, download.downloadId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(service.get(1, download.downloadId).downloadId).toBe(download.downloadId);
  });

  it('re-attaches a running download after a restart of ours, and starts a queued one, each exactly once', async () => {
    rig.fake.host.setTickMs(50);
    const first = downloads({ perServer: 1 });
    const running = (await first.request(1, 1, model('long.safetensors'))).download;
    const queued = (await first.request(1, 1, model('next.safetensors'))).download;
    await expect.poll(() => rig.fake.host.models.get('loras/long.safetensors')?.bytes ?? 0, { timeout: 5000 }).toBeGreaterThan(0);
    await first.close();
    expect(first.get(1, running.downloadId).status).toBe('downloading');
    expect(first.get(1, queued.downloadId).status).toBe('queued');

    // The box went on meanwhile; the next run of ours picks both up from the store.
    const second = downloads({ perServer: 1 });
    second.start();
    expect(await second.settled(running.downloadId)).toMatchObject({ status: 'completed', downloadedBytes: 4000 });
    expect(await second.settled(queued.downloadId)).toMatchObject({ status: 'completed' });
    expect((await rig.jobsOnHost()).sort()).toEqual(
      [
        jobId({ id: running.downloadId, folder: 'loras', filename: 'long.safetensors', url: 'https://example.com/long.safetensors' }),
        jobId({ id: queued.downloadId, folder: 'loras', filename: 'next.safetensors', url: 'https://example.com/next.safetensors' }),
      ].sort(),
    );
  });
});

describe('URL lookups and credentials', () => {
  let site: Server;
  let origin: string;
  const asked: Array<{ method: string; url: string; authorization: string | undefined }> = [];

  beforeEach(async () => {
    asked.length = 0;
    site = createServer((req: IncomingMessage, res: ServerResponse) => {
      asked.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
      if (req.url === '/api/v1/model-versions/456') {
        res.setHeader('content-type', 'application/json');
        return res.end(
          JSON.stringify({
            id: 456,
            downloadUrl: 'https://civitai.com/api/download/models/456',
            files: [
              { name: 'notes.txt', primary: false, downloadUrl: 'https://civitai.com/api/download/models/456?type=Training' },
              { name: 'style.safetensors', primary: true, sizeKB: 3.90625, hashes: { SHA256: SHA.toUpperCase() }, downloadUrl: 'https://civitai.com/api/download/models/456?type=Model&format=SafeTensor' },
            ],
          }),
        );
      }
      if (req.url === '/api/v1/models/123') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ modelVersions: [{ id: 456, downloadUrl: 'https://civitai.com/api/download/models/456', files: [] }] }));
      }
      if (req.url === '/api/v1/models/666') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ modelVersions: [{ id: 7, downloadUrl: 'https://civitai.com/$(touch /tmp/x)\n', files: [] }] }));
      }
      if (req.method === 'HEAD' && req.url === '/org/repo/resolve/main/lfs.safetensors') {
        res.writeHead(302, { location: 'https://cdn.example/lfs', 'x-linked-etag': `"${'a'.repeat(64)}"`, 'x-linked-size': '4000', etag: '"W/123"' });
        return res.end();
      }
      if (req.method === 'HEAD' && req.url === '/org/repo/resolve/main/small.safetensors') {
        res.writeHead(200, { etag: '"0123456789abcdef0123456789abcdef01234567"' });
        return res.end();
      }
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
  });

  afterEach(async () => {
    await new Promise((resolve) => site.close(resolve));
  });

  const lookup = () => new ModelUrlLookup({ civitaiOrigin: origin, huggingfaceOrigin: origin });

  it('resolves a Civitai model page to its primary file with its sha256 and size', async () => {
    expect(await lookup().resolve('https://civitai.com/models/123/some-style?modelVersionId=456', undefined, { civitai: 'cv_token' })).toEqual({
      url: 'https://civitai.com/api/download/models/456?type=Model&format=SafeTensor',
      sha256: SHA,
      bytes: 4000,
    });
    expect(asked).toEqual([{ method: 'GET', url: '/api/v1/model-versions/456', authorization: 'Bearer cv_token' }]);
    // Without a version, the model's latest; a sha256 given with the request wins.
    expect(await lookup().resolve('https://civitai.com/models/123', 'd'.repeat(64))).toEqual({ url: 'https://civitai.com/api/download/models/456', sha256: 'd'.repeat(64), bytes: null });
    await expect(lookup().resolve('https://civitai.com/models/999', undefined)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    // A hostile answer is not a URL anything fetches.
    await expect(lookup().resolve('https://civitai.com/models/666', undefined)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('takes a Hugging Face LFS etag as the sha256, ignores a git blob etag, and sends the token only there', async () => {
    expect(await lookup().resolve('https://huggingface.co/org/repo/resolve/main/lfs.safetensors', undefined, { huggingface: 'hf_token', civitai: 'cv_token' })).toEqual({
      url: 'https://huggingface.co/org/repo/resolve/main/lfs.safetensors',
      sha256: 'a'.repeat(64),
      bytes: 4000,
    });
    expect(asked.at(-1)).toEqual({ method: 'HEAD', url: '/org/repo/resolve/main/lfs.safetensors', authorization: 'Bearer hf_token' });
    expect(await lookup().resolve('https://huggingface.co/org/repo/resolve/main/small.safetensors', undefined)).toMatchObject({ sha256: null });
    // Unreachable: the download goes on with its size checked, without a checksum.
    expect(await new ModelUrlLookup({ huggingfaceOrigin: 'http://127.0.0.1:1' }).resolve('https://huggingface.co/o/r/resolve/main/x.safetensors', undefined)).toMatchObject({ sha256: null });
    // Other hosts are fetched as given, with nothing asked.
    const before = asked.length;
    expect(await lookup().resolve('https://example.com/x.safetensors', undefined, { huggingface: 'hf_token' })).toEqual({ url: 'https://example.com/x.safetensors', sha256: null, bytes: null });
    expect(asked.length).toBe(before);
  });

  it('downloads a Civitai page’s file, with the Civitai token on stdin and never on a command line', async () => {
    const service = downloads({ lookup: lookup(), credentials: { huggingface: 'hf_secret', civitai: 'cv_secret' } });
    const { download } = await service.request(1, 1, { url: 'https://civitai.com/models/123?modelVersionId=456', folder: 'loras', filename: 'style.safetensors' });
    await service.settled(download.downloadId);
    const command = rig.fake.commands.find((c) => c.includes('style.safetensors'))!;
    expect(command).toContain("'https://civitai.com/api/download/models/456?type=Model&format=SafeTensor'");
    expect(command).toContain(`'--sha256' '${SHA}'`);
    expect(command).toContain("'--token-stdin'");
    const plain = (await service.request(1, 1, model('plain.safetensors'))).download;
    await service.settled(plain.downloadId);
    expect(rig.fake.commands.find((c) => c.includes('plain.safetensors'))).not.toContain('--token-stdin');
    expect(rig.fake.commands.join('\n')).not.toMatch(/secret/);
  });
});
