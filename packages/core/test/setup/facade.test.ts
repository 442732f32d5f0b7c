import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyVast } from '../../src/comfy-vast.js';
import type { ExecutionEvent } from '../../src/setup/index.js';

// The library end to end: a setup on a server of the fake Vast.ai (whose instances serve a fake SSH host), with
// the library closed and opened again over the same data directory while the setup runs.
let vast: FakeVast | undefined;
let dir: string | undefined;
const opened: ComfyVast[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await vast?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  vast = dir = undefined;
});

async function open(): Promise<ComfyVast> {
  const comfyVast = await ComfyVast.open({ dataDir: dir!, vast: { apiKey: vast!.apiKey, baseUrl: vast!.url, pollIntervalMs: 1_000 } });
  opened.push(comfyVast);
  return comfyVast;
}

async function until(ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A fresh fake Vast.ai and data directory, the library opened over them, and a user's server running there whose
 * fake SSH host writes a line every `tickMs`.
 */
async function runningServer(name: string, tickMs: number, ready: 'running' | 'launched' = 'running') {
  vast = await startFakeVast({ speed: 100 });
  dir = await mkdtemp(join(tmpdir(), 'setup-facade-'));
  const comfyVast = await open();
  const { user } = await comfyVast.users.createUser('ann');
  const server = await comfyVast.createServer(user.id, { name, gpu: 'RTX 4090' });
  await until(() => (ready === 'launched' ? comfyVast.getServer(user.id, server.id).isLaunched : comfyVast.getServer(user.id, server.id).status === 'running'));
  const vastId = comfyVast.getServer(user.id, server.id).vastId!;
  vast.ssh(vastId)!.host.setTickMs(tickMs);
  return { comfyVast, user, server, vastId };
}

describe('setup through the library', () => {
  it('goes on after the library is opened again mid-setup, without starting it twice', async () => {
    // Lines far enough apart for the library to close between two of them.
    const { comfyVast: first, user, server, vastId } = await runningServer('set me up', 150);

    const reachedStep3 = new Promise<void>((resolve) => first.on('execution:event', (e: ExecutionEvent) => e.entry.kind === 'step' && e.entry.line.step === 3 && resolve()));
    const { execution } = await first.startSetup(user.id, server.id);
    await reachedStep3;
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const second = await open();
    expect(second.listExecutions(user.id, server.id)[0]).toMatchObject({ id: execution.id, status: 'running' });
    await until(() => second.listExecutions(user.id, server.id)[0]!.status !== 'running');
    expect(second.listExecutions(user.id, server.id)[0]).toMatchObject({ id: execution.id, status: 'completed', error: null });
    const steps = second.getExecutionLog(user.id, server.id, execution.id).entries.flatMap((e) => (e.kind === 'step' ? [e.line.step] : []));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(vast!.ssh(vastId)!.host.snapshot().jobs.map((j) => j.id)).toHaveLength(1);
  });

  it('counts a running setup as work: idle stop waits for it, and counts from its end', async () => {
    const { comfyVast, user, server } = await runningServer('idle', 100);
    await comfyVast.updateSchedule(user.id, server.id, 'stop', { schedule: { idleStopMinutes: 30 } });
    expect(comfyVast.getServer(user.id, server.id).idleStopAt).not.toBeNull();

    await comfyVast.startSetup(user.id, server.id);
    expect(comfyVast.getServer(user.id, server.id).idleStopAt).toBeNull();
    await until(() => comfyVast.listExecutions(user.id, server.id)[0]!.status === 'completed');
    const finishedAt = Date.parse(comfyVast.listExecutions(user.id, server.id)[0]!.finishedAt!);
    expect(Date.parse(comfyVast.getServer(user.id, server.id).idleStopAt!)).toBeGreaterThanOrEqual(finishedAt + 30 * 60_000);
  });

  it('refuses basic models outside the allow-list when opened', async () => {
    const basicModels = [{ folder: '../etc', filename: '-x.safetensors', url: 'file:///etc/passwd' }];
    await expect(ComfyVast.open({ setup: { basicModels } })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('takes ComfyUI down during a reset: not launched, generations refused, launched again once it answers', async () => {
    const { comfyVast, user, server } = await runningServer('reset me', 100, 'launched');

    const { execution } = await comfyVast.resetSetup(user.id, server.id, {});
    expect(comfyVast.getServer(user.id, server.id).isLaunched).toBe(false);
    const refused = await comfyVast.generate(user.id, server.id, { prompt: 'a lighthouse', workflowId: 1 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'CONFLICT', details: { serverId: server.id, executionId: execution.id } });

    await until(() => comfyVast.listExecutions(user.id, server.id)[0]!.status === 'completed');
    await until(() => comfyVast.getServer(user.id, server.id).isLaunched);
    expect((await comfyVast.generate(user.id, server.id, { prompt: 'a lighthouse', workflowId: 1 })).generationId).toBeGreaterThan(0);
  });

  it('counts a running model download as work too: idle stop waits for it, and counts from its end', async () => {
    const { comfyVast, user, server } = await runningServer('idle', 100);
    await comfyVast.updateSchedule(user.id, server.id, 'stop', { schedule: { idleStopMinutes: 30 } });

    const { download } = await comfyVast.downloadModel(user.id, server.id, { url: 'https://example.com/detail.safetensors', folder: 'loras', filename: 'detail.safetensors' });
    expect(comfyVast.getServer(user.id, server.id).idleStopAt).toBeNull();
    await until(() => comfyVast.getDownload(user.id, download.downloadId).status === 'completed');
    const doneAt = Date.now();
    await until(() => comfyVast.getServer(user.id, server.id).idleStopAt !== null);
    expect(Date.parse(comfyVast.getServer(user.id, server.id).idleStopAt!)).toBeGreaterThanOrEqual(doneAt - 1_000 + 30 * 60_000);
  });
});
