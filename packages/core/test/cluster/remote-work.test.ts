import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ComfyVast, INSTALLATION_KEY_VALUE, InstallationKeys, VastClient, type DownloadView, type ExecutionEvent, type Redis } from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';
import { useClusterRig } from './helpers/cluster.js';

// Setups and model downloads with two API processes on one PostgreSQL schema and one Redis, on servers of the fake
// Vast.ai (each instance serves a fake SSH host): one process follows each, another adopts it when that one is cut
// off, a cancel made through the other process reaches the host, and both reach every instance with one key.
const pg = postgresHarness();
/** Short, so that a process cut off from Redis counts as gone within a test; adoption looks twice per ttl. */
const TTL_MS = 1_000;

const rig = useClusterRig();

interface Replica {
  facade: ComfyVast;
  redis: Redis;
  downloads: DownloadView[];
  executions: ExecutionEvent[];
}

/** One API process on the shared schema and Redis, with the fake Vast.ai account and a data directory of its own. */
async function replica(schema: string, dataDir?: string): Promise<Replica> {
  dataDir ??= await rig.dataDir();
  const client = await rig.redis();
  const store = await pg.open({ schema });
  const facade = rig.track(await ComfyVast.open({ store, redis: client, leaseTtlMs: TTL_MS, dataDir, vast: { apiKey: rig.vast.apiKey, baseUrl: rig.vast.url, pollIntervalMs: 500 } }));
  const replica: Replica = { facade, redis: client, downloads: [], executions: [] };
  facade.on('download:event', (view) => replica.downloads.push(view));
  facade.on('execution:event', (event) => replica.executions.push(event));
  return replica;
}

/** The public keys registered with the fake Vast.ai account. */
const accountKeys = async () => (await new VastClient({ apiKey: rig.vast.apiKey, baseUrl: rig.vast.url }).listSshKeys()).map((k) => k.public_key);

const eventually = <T>(check: () => T, timeout = 20_000) => vi.waitFor(check, { timeout, interval: 20 });

/** Two processes, and a user's server rented through `a` that runs (seen by both), its SSH host writing a line every `tickMs`. */
async function twoProcesses(tickMs: number) {
  await rig.startVast();
  const schema = pg.schema();
  const [a, b] = [await replica(schema), await replica(schema)];
  const { user } = await a.facade.users.createUser('ann');
  const server = await a.facade.createServer(user.id, { name: 'shared', gpu: 'RTX 4090' });
  await eventually(() => expect(a.facade.getServer(user.id, server.id).status).toBe('running'), 30_000);
  await eventually(() => expect(b.facade.getServer(user.id, server.id).status).toBe('running'));
  const host = rig.vast.ssh(a.facade.getServer(user.id, server.id).vastId!)!.host;
  host.setTickMs(tickMs);
  return { a, b, userId: user.id, serverId: server.id, host };
}

const model = { url: 'https://example.com/detail.safetensors', folder: 'loras', filename: 'detail.safetensors' };

describe('setups and downloads with several API processes', () => {
  it('uses one key pair in both processes: a server rented through one is set up through the other', async () => {
    const { a, b, userId, serverId } = await twoProcesses(20);
    const start = await b.facade.startSetup(userId, serverId);
    await eventually(() => expect(b.facade.listExecutions(userId, serverId)[0]!.status).not.toBe('running'));
    expect(b.facade.listExecutions(userId, serverId)[0]).toMatchObject({ id: start.execution.id, status: 'completed', error: null });
    // One key on the account, and the same pair in the store for every process.
    expect(await accountKeys()).toHaveLength(1);
    await eventually(() => expect(a.facade.listExecutions(userId, serverId)[0]!.status).toBe('completed'));
  }, 90_000);

  it('moves the data directory’s key pair into the store on the first start, so the instances it was attached to stay reachable from every process', async () => {
    await rig.startVast();
    const dir = await rig.dataDir('comfy-vast-key-');
    const before = await new InstallationKeys(join(dir, 'ssh')).existing();
    expect(before).toBeNull();
    const { publicKey } = await new InstallationKeys(join(dir, 'ssh')).load();
    const schema = pg.schema();
    await replica(schema, dir);
    const store = await pg.open({ schema });
    try {
      const stored = store.getValue<{ publicKey: string; privateKey: string }>(INSTALLATION_KEY_VALUE);
      expect(stored).toEqual(await new InstallationKeys(join(dir, 'ssh')).existing());
      expect(stored!.publicKey).toBe(publicKey);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('ends with one key when two processes start at once on a new installation', async () => {
    await rig.startVast();
    const schema = pg.schema();
    await Promise.all([replica(schema), replica(schema)]);
    const { user } = await rig.facades[0]!.users.createUser('bo');
    // Each rents a server: the account ends with the one key both hold.
    await rig.facades[0]!.createServer(user.id, { name: 'one', gpu: 'RTX 4090' });
    await rig.facades[1]!.createServer(user.id, { name: 'two', gpu: 'RTX 4090' });
    expect(await accountKeys()).toHaveLength(1);
  }, 60_000);

  it('completes a download started on a process cut off from Redis: the other adopts it, and the host runs it once', async () => {
    const { a, b, userId, serverId, host } = await twoProcesses(150);
    const { download } = await a.facade.downloadModel(userId, serverId, model);
    await eventually(() => expect(b.facade.getDownload(userId, download.downloadId).status).toBe('downloading'));
    await eventually(() => expect(host.models.get('loras/detail.safetensors')?.bytes ?? 0).toBeGreaterThan(0));
    // Process a loses Redis (as a process killed outright does): its presence lapses and b takes the download over.
    a.redis.disconnect();
    await eventually(() => expect(b.downloads.filter((v) => v.downloadId === download.downloadId && v.status === 'completed')).toHaveLength(1), 40_000);
    expect(b.facade.getDownload(userId, download.downloadId)).toMatchObject({ status: 'completed', progress: 100 });
    expect(host.models.get('loras/detail.safetensors')).toMatchObject({ partial: false });
    expect(host.snapshot().jobs.filter((j) => j.id.startsWith('dl-'))).toHaveLength(1);
    // b heard the rest of the run itself: progress, not only the end.
    expect(b.downloads.filter((v) => v.downloadId === download.downloadId && v.status === 'downloading').length).toBeGreaterThan(0);
    await eventually(() => expect(a.facade.getDownload(userId, download.downloadId).status).toBe('completed'));
  }, 90_000);

  it('completes a setup started on a process cut off from Redis, each step once, with one job on the host', async () => {
    // Six steps, a line each: the other process adopts it well before its end.
    const { a, b, userId, serverId, host } = await twoProcesses(700);
    const { execution } = await a.facade.startSetup(userId, serverId);
    await eventually(() => expect(b.executions.some((e) => e.entry.kind === 'step' && e.entry.line.step === 1)).toBe(true));
    a.redis.disconnect();
    await eventually(() => expect(b.executions.filter((e) => e.executionId === execution.id && e.status !== 'running')).toMatchObject([{ status: 'completed' }]), 40_000);
    const log = b.facade.getExecutionLog(userId, serverId, execution.id);
    expect(log.execution).toMatchObject({ status: 'completed', error: null });
    expect(log.entries.flatMap((e) => (e.kind === 'step' ? [e.line.step] : []))).toEqual([1, 2, 3, 4, 5, 6]);
    const seqs = log.entries.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    expect(host.snapshot().jobs.filter((j) => j.id.startsWith('setup-'))).toHaveLength(1);
    // b followed the steps after the first itself.
    expect(b.executions.filter((e) => e.executionId === execution.id && e.entry.kind === 'step').length).toBeGreaterThan(1);
  }, 90_000);

  it('counts a download another process runs as the server’s work: idle stop waits for it, and counts from its end', async () => {
    const { a, b, userId, serverId } = await twoProcesses(100);
    await a.facade.updateSchedule(userId, serverId, 'stop', { schedule: { idleStopMinutes: 30 } });
    expect(a.facade.getServer(userId, serverId).idleStopAt).not.toBeNull();
    const { download } = await b.facade.downloadModel(userId, serverId, model);
    await eventually(() => expect(a.facade.getServer(userId, serverId).idleStopAt).toBeNull());
    await eventually(() => expect(b.facade.getDownload(userId, download.downloadId).status).toBe('completed'));
    const doneAt = Date.now();
    await eventually(() => expect(a.facade.getServer(userId, serverId).idleStopAt).not.toBeNull());
    expect(Date.parse(a.facade.getServer(userId, serverId).idleStopAt!)).toBeGreaterThanOrEqual(doneAt - 1_000 + 30 * 60_000);
  }, 90_000);

  it('counts a setup another process follows as the server’s work too', async () => {
    const { a, b, userId, serverId } = await twoProcesses(300);
    await a.facade.updateSchedule(userId, serverId, 'stop', { schedule: { idleStopMinutes: 30 } });
    expect(a.facade.getServer(userId, serverId).idleStopAt).not.toBeNull();
    await b.facade.startSetup(userId, serverId);
    await eventually(() => expect(a.facade.getServer(userId, serverId).idleStopAt).toBeNull());
    await eventually(() => expect(a.facade.listExecutions(userId, serverId)[0]!.status).toBe('completed'));
    const finishedAt = Date.parse(a.facade.listExecutions(userId, serverId)[0]!.finishedAt!);
    await eventually(() => expect(a.facade.getServer(userId, serverId).idleStopAt).not.toBeNull());
    expect(Date.parse(a.facade.getServer(userId, serverId).idleStopAt!)).toBeGreaterThanOrEqual(finishedAt + 30 * 60_000);
  }, 90_000);

  it('cancels through the other process a download one process runs: the host stops it, and neither ends it a second time', async () => {
    const { a, b, userId, serverId, host } = await twoProcesses(150);
    const { download } = await a.facade.downloadModel(userId, serverId, model);
    await eventually(() => expect(b.facade.getDownload(userId, download.downloadId).status).toBe('downloading'));
    await eventually(() => expect(host.models.get('loras/detail.safetensors')?.bytes ?? 0).toBeGreaterThan(0));

    expect(await b.facade.cancelDownload(userId, download.downloadId)).toMatchObject({ status: 'cancelled' });
    expect(host.models.has('loras/detail.safetensors')).toBe(false);
    await eventually(() => expect(a.facade.getDownload(userId, download.downloadId).status).toBe('cancelled'));
    // Nothing more: the process that ran it let it go without an end of its own.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const process of [a, b]) expect(process.facade.getDownload(userId, download.downloadId).status).toBe('cancelled');
    const ends = [...a.downloads, ...b.downloads].filter((v) => v.downloadId === download.downloadId && v.status !== 'downloading' && v.status !== 'queued');
    expect(ends.map((v) => v.status)).toEqual(ends.map(() => 'cancelled'));
    expect(host.models.has('loras/detail.safetensors')).toBe(false);
  }, 90_000);
});
