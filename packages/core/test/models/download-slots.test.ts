import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { RedisSlots, slotsKey } from '../../src/cluster/index.js';
import type { ModelDownloads } from '../../src/models/model-downloads.js';
import { ManualClock, silentLogger } from '../../src/util/index.js';
import { useFakeHost } from './helpers/fake-host.js';

// ModelDownloads with the server's slots counted in Redis (as with several API processes), against the testkit's
// fake SSH host. "Another process" is a RedisSlots of its own on the same keys; retries run on a ManualClock.
const SERVER = 1;
const rig = useFakeHost();
let clock: ManualClock;
let prefix: string;

beforeEach(() => {
  clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));
  prefix = `test-${randomBytes(4).toString('hex')}:`;
});

const slots = () => new RedisSlots({ redis: rig.redis, name: 'downloads', limit: 1, clock, logger: silentLogger, prefix });
const holders = () => rig.redis.zrange(slotsKey('downloads', String(SERVER), prefix), 0, -1);
const realDelay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const downloads = (): ModelDownloads => rig.downloads({ clock, perServer: 1, slots: slots() });
const model = (name: string) => ({ url: `https://example.com/${name}`, folder: 'loras', filename: name });

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
    expect(await rig.jobsOnHost()).toHaveLength(1);
    expect(rig.fake.host.models.has('loras/first.safetensors')).toBe(false);
    expect(await holders()).toEqual([]);
  });

  it('keeps the slot of a download whose remote job goes on after a close, and the next run re-attaches to it under the same slot', async () => {
    rig.fake.host.setTickMs(100);
    const service = downloads();
    const { download } = await service.request(1, SERVER, model('long.safetensors'));
    await expect.poll(() => rig.fake.host.models.get('loras/long.safetensors')?.bytes ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await service.close();
    expect(await holders()).toEqual([String(download.downloadId)]);
    // Another process's download of the same server waits: the server still runs the first one.
    const elsewhere = slots();
    expect(await elsewhere.acquire(String(SERVER), 'other')).toBe(false);

    const restarted = downloads();
    await restarted.start();
    expect(await restarted.settled(download.downloadId)).toMatchObject({ status: 'completed', progress: 100 });
    expect(await rig.jobsOnHost()).toHaveLength(1);
    expect(await elsewhere.acquire(String(SERVER), 'other')).toBe(true);
  });
});
