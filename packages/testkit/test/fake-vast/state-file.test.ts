import { readdir, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { FakeVast } from '@comfy-vast/testkit';
import { call, rent, stateFileHarness } from './state-file-harness.js';

const h = stateFileHarness();

async function comfyAnswers(fake: FakeVast, id: number): Promise<number> {
  const shown = (await call(fake, 'GET', `/api/v0/instances/${id}/`)).instances;
  const res = await fetch(`http://${shown.public_ipaddr}:${shown.ports['8188/tcp'][0].HostPort}/system_stats`, { headers: { authorization: 'Bearer pw' } });
  return res.status;
}

describe('the fake Vast.ai with a state file', () => {
  it('keeps instances, their state, labels and SSH keys across a restart, and running ones serve ComfyUI again', async () => {
    const first = await h.start();
    const running = await rent(first, 'comfy-vast:1');
    const stopped = await rent(first, 'comfy-vast:2');
    const exited = await rent(first, 'comfy-vast:3');
    await call(first, 'POST', '/api/v0/ssh/', { ssh_key: 'ssh-ed25519 AAAAkey comfy-vast' });
    h.now += 30_000;
    await call(first, 'PUT', `/api/v0/instances/${stopped}/`, { state: 'stopped' });
    first.forceStatus(exited, { actual_status: 'exited', status_msg: 'exit code 137' });
    const before = [running, stopped, exited].map((id) => first.instance(id));
    expect(await comfyAnswers(first, running)).toBe(200);
    await first.close();

    const second = await h.start();
    expect(second.instanceIds().sort()).toEqual([running, stopped, exited].sort());
    // Each reads as before, the ComfyUI's port included, and goes on from there: the stop that was under way ends.
    expect([running, stopped, exited].map((id) => second.instance(id))).toEqual(before);
    expect(second.instance(running)).toMatchObject({ actual_status: 'running', label: 'comfy-vast:1' });
    expect(second.instance(exited)).toMatchObject({ actual_status: 'exited', status_msg: 'exit code 137' });
    h.now += 5_000;
    expect(second.instance(stopped)).toMatchObject({ actual_status: 'stopped', label: 'comfy-vast:2', ports: undefined });
    expect(await comfyAnswers(second, running)).toBe(200);
    expect((await call(second, 'GET', '/api/v0/ssh/')).ssh_keys.map((k: any) => k.public_key)).toEqual(['ssh-ed25519 AAAAkey comfy-vast']);
  });

  it('never hands out an instance id again, destroyed ones included', async () => {
    const first = await h.start();
    const a = await rent(first, 'comfy-vast:1');
    const b = await rent(first, 'comfy-vast:2');
    await call(first, 'DELETE', `/api/v0/instances/${b}/`);
    await first.close();
    const second = await h.start();
    const c = await rent(second, 'comfy-vast:3');
    expect(c).toBeGreaterThan(b);
    expect(second.instanceIds().sort()).toEqual([a, c].sort());
  });

  it('has saved a change before it answers, so a kill right after loses nothing', async () => {
    const fake = await h.start();
    const id = await rent(fake, 'comfy-vast:1');
    await call(fake, 'PUT', `/api/v0/instances/${id}/`, { label: 'comfy-vast:9' });
    // Read while the fake still runs: what a process killed now would leave behind.
    const saved = JSON.parse(await readFile(h.stateFile, 'utf8'));
    expect(saved.instances).toEqual([expect.objectContaining({ id, label: 'comfy-vast:9' })]);
    expect(saved.lastInstanceId).toBe(id);
    expect(await readdir(h.dir)).toEqual(['simulation.json']);
  });

  it('refuses to start on a file that is not its state, rather than forget every instance', async () => {
    await writeFile(h.stateFile, '{"instances": 3}');
    await expect(h.start()).rejects.toThrow(/simulation state .* is not valid/);
    await writeFile(h.stateFile, '{"instan');
    await expect(h.start()).rejects.toThrow(/simulation state .* is not JSON/);
  });
});
