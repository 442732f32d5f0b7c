import { startFakeComfy } from '@comfy-vast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadProgress } from '../src/contract/index.js';
import { launchServer, raw, startTestServer, startWithAlice, until, type TestServer } from './helpers.js';
import { openSocket } from './ws-client.js';

// Model listings and downloads on the simulated provider: the fake Vast instance's SSH host speaks remote.sh's
// protocol over its virtual disk, so every request goes through the real runner, store and queue.
let server: TestServer;
let aliceToken: string;
let bobToken: string;
let serverId: number;

beforeAll(async () => {
  ({ server, aliceToken, serverId } = await startWithAlice());
  bobToken = (await server.admin.createUser({ body: { username: 'bob' } })).token;
}, 60_000);
afterAll(async () => server.stop());

const api = (path: string, token: string, init: RequestInit = {}) => raw(server, `/api${path}`, { ...init, token });
const post = (path: string, token: string, body: unknown) => api(path, token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('the spec’s Batch Model Download, as written', () => {
  it('starts two downloads and polls each until it is completed, then lists them', async () => {
    const models = [
      { url: 'https://huggingface.co/model1.safetensors', folder: 'checkpoints', filename: 'model1.safetensors' },
      { url: 'https://huggingface.co/model2.safetensors', folder: 'loras', filename: 'model2.safetensors' },
    ];
    const downloads = await Promise.all(models.map((model) => post(`/comfy/models/${serverId}/download`, aliceToken, model)));
    for (const download of downloads) {
      expect(download.status).toBe(200);
      expect(download.body).toMatchObject({ success: true, message: 'Model download started', downloadId: expect.any(Number), estimatedTime: 'unknown' });
    }
    const seen = new Set<number>();
    const finals = await Promise.all(
      downloads.map((download) =>
        until(
          async () => {
            const progress = await api(`/comfy/models/download/${download.body.downloadId}`, aliceToken);
            expect(progress.status).toBe(200);
            const data = DownloadProgress.parse(progress.body);
            seen.add(data.progress);
            return data;
          },
          (data) => data.status === 'completed',
          60_000,
        ),
      ),
    );
    for (const final of finals) {
      expect(final).toMatchObject({ progress: 100, downloadedBytes: 64 * 1024 * 1024, totalBytes: 64 * 1024 * 1024, downloadSpeed: null, estimatedTimeRemaining: null, error: null });
    }

    const listing = await until(
      () => api(`/comfy/models/${serverId}`, aliceToken),
      (answer) => (answer.body.loras ?? []).some((m: { name: string }) => m.name === 'model2.safetensors'),
    );
    expect(listing.status).toBe(200);
    expect(listing.body.checkpoints).toContainEqual({ name: 'model1.safetensors', size: '67.1 MB', bytes: 67_108_864, downloaded: true, path: '/workspace/ComfyUI/models/checkpoints/' });
    expect(listing.body.loras).toContainEqual({ name: 'model2.safetensors', size: '67.1 MB', bytes: 67_108_864, downloaded: true, path: '/workspace/ComfyUI/models/loras/' });
    expect(listing.body.vae).toEqual(expect.any(Array));
    expect(listing.body).not.toHaveProperty('custom_nodes');
  }, 90_000);
});

describe('downloads one by one', () => {
  it('streams a download’s progress on the WebSocket to its owner only', async () => {
    const socket = await openSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`);
    const intruder = await openSocket(`${server.url.replace(/^http/, 'ws')}/api/ws`);
    try {
      socket.send({ type: 'auth', token: aliceToken });
      intruder.send({ type: 'auth', token: bobToken });
      await socket.next((m) => m.type === 'ready');
      await intruder.next((m) => m.type === 'ready');
      const started = await post(`/comfy/models/${serverId}/download`, aliceToken, { url: 'https://example.com/streamed.safetensors', folder: 'vae', filename: 'streamed.safetensors' });
      const downloadId = started.body.downloadId as number;
      socket.send({ type: 'subscribe', downloadId });
      await socket.next((m) => m.type === 'subscribed' && m.downloadId === downloadId);
      const done = await socket.next((m) => m.type === 'download:progress' && m.downloadId === downloadId && m.data.status === 'completed', 60_000);
      expect(done).toMatchObject({ serverId, data: { progress: 100, folder: 'vae', filename: 'streamed.safetensors' } });

      intruder.send({ type: 'subscribe', downloadId });
      expect(await intruder.next((m) => m.type === 'error')).toMatchObject({ downloadId, data: { code: 'NOT_FOUND' } });
    } finally {
      socket.close();
      intruder.close();
    }
  }, 90_000);

  it('cancels a download with DELETE, and answers the same file twice with one download', async () => {
    const body = { url: 'https://example.com/cancelled.safetensors', folder: 'upscale_models', filename: 'cancelled.safetensors' };
    const first = await post(`/comfy/models/${serverId}/download`, aliceToken, body);
    const again = await post(`/comfy/models/${serverId}/download`, aliceToken, body);
    expect(again.body).toMatchObject({ downloadId: first.body.downloadId, message: 'This file is already being downloaded to the server' });
    const cancelled = await api(`/comfy/models/download/${first.body.downloadId}`, aliceToken, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ downloadId: first.body.downloadId, status: 'cancelled' });
    expect((await api(`/comfy/models/download/${first.body.downloadId}`, aliceToken)).body.status).toBe('cancelled');
  });

  it('answers another user’s download and server as missing, and refuses unsafe input', async () => {
    const mine = await post(`/comfy/models/${serverId}/download`, aliceToken, { url: 'https://example.com/private.safetensors', folder: 'loras', filename: 'private.safetensors' });
    for (const [method, path] of [
      ['GET', `/comfy/models/download/${mine.body.downloadId}`],
      ['DELETE', `/comfy/models/download/${mine.body.downloadId}`],
      ['GET', `/comfy/models/${serverId}`],
    ] as const) {
      const answer = await api(path, bobToken, { method });
      expect(answer.status).toBe(404);
    }
    expect((await post(`/comfy/models/${serverId}/download`, bobToken, { url: 'https://example.com/x.safetensors', folder: 'loras', filename: 'x.safetensors' })).status).toBe(404);
    for (const body of [
      { url: 'file:///etc/passwd', folder: 'loras', filename: 'x.safetensors' },
      { url: 'https://user:pass@example.com/x.safetensors', folder: 'loras', filename: 'x.safetensors' },
      { url: 'https://example.com/x.safetensors', folder: 'custom_nodes', filename: 'x.safetensors' },
      { url: 'https://example.com/x.safetensors', folder: 'loras', filename: '../x.safetensors' },
      { url: 'https://example.com/x.safetensors', folder: 'loras', filename: '$(reboot).safetensors' },
      { url: 'https://example.com/x.safetensors', folder: 'loras', filename: 'notes.txt' },
    ]) {
      const answer = await post(`/comfy/models/${serverId}/download`, aliceToken, body);
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('VALIDATION_ERROR');
    }
  });

  it('queues a workflow’s missing models that have a URL and says which it could not place', async () => {
    const workflow = {
      last_node_id: 2,
      last_link_id: 0,
      nodes: [
        {
          id: 1,
          type: 'LoraLoaderModelOnly',
          inputs: [],
          outputs: [],
          widgets_values: ['wanted.safetensors', 1],
          properties: { models: [{ name: 'wanted.safetensors', url: 'https://example.com/wanted.safetensors', directory: 'loras' }] },
        },
        { id: 2, type: 'UpscaleModelLoader', inputs: [], outputs: [], widgets_values: ['nowhere.pth'], properties: {} },
      ],
      links: [],
      version: 0.4,
    };
    const answer = await post(`/comfy/models/${serverId}/download-missing`, aliceToken, { workflow });
    expect(answer.status).toBe(200);
    expect(answer.body.queued).toEqual([{ name: 'wanted.safetensors', folder: 'loras', filename: 'wanted.safetensors', downloadId: expect.any(Number), status: expect.any(String) }]);
    expect(answer.body.notPlaced).toEqual([{ name: 'nowhere.pth', reason: expect.stringContaining('no download URL') }]);
  });
});

describe('the daily download allowance', () => {
  it('refuses a download once it is spent, with what remains in details', async () => {
    // 150 MB a day, counted as bytes arrive: room for two of the simulated 64 MiB files and a quarter of a third, which
    // is stopped with most of it still to come, so the stop wins the race with its end even on a loaded machine.
    const limited = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100', COMFY_VAST_LIMITS: JSON.stringify({ downloadBytes: { day: 150_000_000 } }) });
    try {
      const token = (await limited.admin.createUser({ body: { username: 'carol' } })).token;
      const carolServer = await launchServer(limited.client(token));
      const call = (path: string, init: RequestInit = {}) => raw(limited, `/api${path}`, { ...init, token });
      const ids: number[] = [];
      for (let i = 0; ; i++) {
        const answer = await call(`/comfy/models/${carolServer}/download`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ url: `https://example.com/quota-${i}.safetensors`, folder: 'loras', filename: `quota-${i}.safetensors` }),
        });
        if (answer.status === 429) {
          expect(answer.body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', details: { window: 'day', limit: 150_000_000, remaining: 0 } });
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
          break;
        }
        expect(answer.status).toBe(200);
        ids.push(answer.body.downloadId);
        await until(() => call(`/comfy/models/download/${answer.body.downloadId}`), (p) => !['queued', 'downloading'].includes(p.body.status), 60_000);
        expect(i).toBeLessThan(5);
      }
      expect(ids).toHaveLength(3);
      const last = await call(`/comfy/models/download/${ids.at(-1)}`);
      expect(last.body).toMatchObject({ status: 'failed', error: 'Stopped: the daily download allowance is used up' });
    } finally {
      await limited.stop();
    }
  }, 120_000);
});

describe('an attached ComfyUI', () => {
  it('lists its models from ComfyUI alone, sizes unknown', async () => {
    const comfy = await startFakeComfy({ models: { checkpoints: ['attached.safetensors'] } });
    try {
      const created = await post('/vast-servers', aliceToken, { name: 'attached', comfyUrl: comfy.url });
      expect(created.status).toBe(200);
      const attachedId = created.body.id as number;
      await until(() => api(`/vast-servers/${attachedId}`, aliceToken), (s) => s.body.status === 'running');
      const listing = await api(`/comfy/models/${attachedId}`, aliceToken);
      expect(listing.status).toBe(200);
      expect(listing.body.checkpoints).toEqual([{ name: 'attached.safetensors', size: 'unknown', bytes: null, downloaded: true, path: 'models/checkpoints/' }]);
      const download = await post(`/comfy/models/${attachedId}/download`, aliceToken, { url: 'https://example.com/x.safetensors', folder: 'loras', filename: 'x.safetensors' });
      expect(download.status).toBe(400);
      expect(download.body.code).toBe('NOT_SUPPORTED');
    } finally {
      await comfy.close();
    }
  });
});
