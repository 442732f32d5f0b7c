import { randomBytes } from 'node:crypto';
import { sshKeyPair, startFakeSsh, type FakeSsh } from '@comfy-vast/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisSlots, openRedis, slotsKey, type Redis } from '../../src/cluster/index.js';
import { ModelDownloads } from '../../src/models/model-downloads.js';
import type { RemoteLine } from '../../src/remote/lines.js';
import { loadRemoteScript } from '../../src/remote/remote-script.js';
import { SshRunner } from '../../src/remote/ssh-runner.js';
import { MemoryStore } from '../../src/store/index.js';
import { ManualClock, silentLogger } from '../../src/util/index.js';
import { memoryPins } from '../remote/helpers/runner.js';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

// ModelDownloads with the server's slots counted in Redis (as with several API processes), against the testkit's
// fake SSH host. "Another process" is a RedisSlots of its own on the same keys; retries run on a ManualClock.
const key = sshKeyPair();
const MODELS = '/workspace/ComfyUI/models';
const SERVER = 1;
let fake: FakeSsh;
let runner: SshRunner;
let store: MemoryStore;
let clock: ManualClock;
let prefix: string;
let open: ModelDownloads[];
let redisServer: PrivateRedis;
let redis: Redis;

beforeAll(async () => {
  redisServer = await startPrivateRedis();
  redis = await openRedis({ url: redisServer.url, logger: silentLogger });
}, 30_000);
afterAll(async () => {
  await redis?.quit();
  await redisServer?.stop();
});

beforeEach(async () => {
  fake = await startFakeSsh({ authorizedKey: key.public, tickMs: 10, progressSteps: 8, defaultBytes: 4000 });
  runner = new SshRunner({ privateKey: key.private, pins: memoryPins(), script: await loadRemoteScript() });
  store = new MemoryStore();
  clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));
  prefix = `test-${randomBytes(4).toString('hex')}:`;
  open = [];
});
afterEach(async () => {
  await Promise.all(open.map((d) => d.close()));
  runner.closeAll();
  await fake.close();
});

const slots = () => new RedisSlots({ redis, name: 'downloads', limit: 1, clock, logger: silentLogger, prefix });
const holders = () => redis.zrange(slotsKey('downloads', String(SERVER), prefix), 0, -1);
const realDelay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function downloads(): ModelDownloads {
  const target = { server: 'sim-1', host: '127.0.0.1', port: fake.port, user: 'root', modelsDir: MODELS };
  const service = new ModelDownloads({ store, clock, perServer: 1, slots: slots(), remoteOf: () => ({ runner, target }) });
  open.push(service);
  return service;
}

const model = (name: string) => ({ url: `https://example.com/${name}`, folder: 'loras', filename: name });

async function jobsOnHost(): Promise<string[]> {
  const jobs: string[] = [];
  await runner.run({ server: 'sim-1', host: '127.0.0.1', port: fake.port, user: 'root' }, ['status'], {
    onLine: (line: RemoteLine) => void (line.kind === 'job' && jobs.push(line.line.job)),
  });
  return jobs;
}

describe('downloads with the server’s slots in Redis', () => {
  it('keeps a download queued while another process holds the slot, cancellable, and starts the next one a retry after the slot frees', async () => {
    const elsewhere = slots();
    expect(await elsewhere.acquire(String(SERVER), 'other')).toBe(true);
    const service = downloads();

    const { download: first } = await service.request(1, SERVER, model('first.safetensors'));
    await realDelay(200);
    expect(service.get(1, first.downloadId).status).toBe('queued');
    expect(await service.cancel(1, first.downloadId)).toMatchObject({ status: 'cancelled' });
    expect(await service.settled(first.downloadId)).toMatchObject({ status: 'cancelled' });

    const { download: second } = await service.request(1, SERVER, model('second.safetensors'));
    await elsewhere.release(String(SERVER), 'other');
    // No notice reaches this service: it finds the free slot at its next attempt, a second of its clock later.
    await realDelay(100);
    expect(service.get(1, second.downloadId).status).toBe('queued');
    await clock.advance(1_000);
    expect(await service.settled(second.downloadId)).toMatchObject({ status: 'completed', progress: 100 });
    // The cancelled one never reached the host; the completed one freed its slot.
    expect(await jobsOnHost()).toHaveLength(1);
    expect(fake.host.models.has('loras/first.safetensors')).toBe(false);
    expect(await holders()).toEqual([]);
  });

  it('keeps the slot of a download whose remote job goes on after a close, and the next run re-attaches to it under the same slot', async () => {
    fake.host.setTickMs(100);
    const service = downloads();
    const { download } = await service.request(1, SERVER, model('long.safetensors'));
    await expect.poll(() => fake.host.models.get('loras/long.safetensors')?.bytes ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await service.close();
    expect(await holders()).toEqual([String(download.downloadId)]);
    // Another process's download of the same server waits: the server still runs the first one.
    const elsewhere = slots();
    expect(await elsewhere.acquire(String(SERVER), 'other')).toBe(false);

    const restarted = downloads();
    await restarted.start();
    expect(await restarted.settled(download.downloadId)).toMatchObject({ status: 'completed', progress: 100 });
    expect(await jobsOnHost()).toHaveLength(1);
    expect(await elsewhere.acquire(String(SERVER), 'other')).toBe(true);
  });
});
