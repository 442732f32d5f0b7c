import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, startFakeComfy, type ModelFiles } from '@comfy-vast/testkit';
import { call, rent, stateFileHarness } from './state-file-harness.js';

const h = stateFileHarness();

async function get(url: string, token?: string): Promise<any> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status, url).toBe(200);
  return res.json();
}

describe('an instance disk in the state file', () => {
  it('loads a version 1 state, whose running instances get the image disk and an SSH server, and saves version 2 without leftovers', async () => {
    const first = await h.start();
    const id = await rent(first, 'comfy-vast:1');
    await first.close();
    // What a fake that knew nothing of SSH servers wrote.
    const saved = JSON.parse(await readFile(h.stateFile, 'utf8'));
    const old = { ...saved, version: 1, instances: saved.instances.map(({ sshHostKey: _k, sshKeys: _s, host: _h, ...rest }: Record<string, unknown>) => rest) };
    await writeFile(h.stateFile, JSON.stringify(old));
    // And a save a crash cut short.
    await writeFile(join(h.dir, 'simulation.json.saving-4242-0badc0de'), '{"ver');

    const second = await h.start();
    const ssh = second.ssh(id);
    expect(ssh).toBeDefined();
    expect(ssh!.host.installed).toBe(true);
    expect(ssh!.host.modelFiles().checkpoints).toEqual(DEFAULT_MODELS.checkpoints);
    h.now += 30_000;
    const shown = (await call(second, 'GET', `/api/v0/instances/${id}/`)).instances;
    expect(shown.ports['22/tcp'][0].HostPort).toBe(String(ssh!.port));
    expect(await get(`http://127.0.0.1:${shown.ports['8188/tcp'][0].HostPort}/models/checkpoints`, 'pw')).toEqual(DEFAULT_MODELS.checkpoints);

    await call(second, 'PUT', `/api/v0/instances/${id}/`, { label: 'comfy-vast:2' });
    const rewritten = JSON.parse(await readFile(h.stateFile, 'utf8'));
    expect(rewritten.version).toBe(2);
    expect(await readdir(h.dir)).toEqual(['simulation.json']);
    expect(rewritten.instances[0]).toMatchObject({ sshHostKey: expect.stringContaining('PRIVATE KEY'), host: { installed: true } });
  });
});

describe('the fake ComfyUI with a model-file provider', () => {
  it('lists the provided files after its own, in /models, /embeddings and the loaders, as they change', async () => {
    const disk: ModelFiles = { loras: ['a.safetensors'] };
    const comfy = await startFakeComfy({ models: { loras: ['own.safetensors'] }, modelFiles: () => disk });
    h.open.push(comfy);
    const loraCombo = async () => (await get(`${comfy.url}/object_info/LoraLoader`)).LoraLoader.input.required.lora_name[0];
    expect(await get(`${comfy.url}/models/loras`)).toEqual(['own.safetensors', 'a.safetensors']);
    expect(await loraCombo()).toEqual(['a.safetensors', 'own.safetensors']);

    disk.loras = ['a.safetensors', 'b.safetensors'];
    disk.embeddings = ['easy.pt'];
    expect(await get(`${comfy.url}/models/loras`)).toEqual(['own.safetensors', 'a.safetensors', 'b.safetensors']);
    expect(await loraCombo()).toEqual(['a.safetensors', 'b.safetensors', 'own.safetensors']);
    expect(await get(`${comfy.url}/embeddings`)).toEqual(['easy']);
  });
});
