import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, startFakeComfy, startFakeVast, type FakeVast, type ModelFiles } from '@comfy-vast/testkit';

const NO_LIMITS = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };
const launch = { image: 'vastai/comfy:@vastai-automatic-tag', disk: 20, runtype: 'ssh_direc ssh_proxy', env: { '-p 8188:8188': '1', WEB_PASSWORD: 'pw' }, label: 'comfy-vast:1' };

let dir: string;
let stateFile: string;
let now: number;
const open: Array<{ close(): Promise<void> }> = [];

async function start(): Promise<FakeVast> {
  const fake = await startFakeVast({ now: () => now, intervalsMs: NO_LIMITS, stateFile });
  open.push(fake);
  return fake;
}

async function call(fake: FakeVast, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(fake.url + path, { method, headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(res.status, `${method} ${path}`).toBe(200);
  return res.json();
}

async function get(url: string, token?: string): Promise<any> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status, url).toBe(200);
  return res.json();
}

beforeEach(async () => {
  now = 1_000_000;
  dir = await mkdtemp(join(tmpdir(), 'fake-vast-disk-'));
  stateFile = join(dir, 'simulation.json');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('an instance disk in the state file', () => {
  it('loads a version 1 state, whose running instances get the image disk and an SSH server, and saves version 2 without leftovers', async () => {
    const first = await start();
    const id = (await call(first, 'PUT', `/api/v0/asks/${first.offers()[0]!.id}/`, launch)).new_contract as number;
    await first.close();
    // What a fake that knew nothing of SSH servers wrote.
    const saved = JSON.parse(await readFile(stateFile, 'utf8'));
    const old = { ...saved, version: 1, instances: saved.instances.map(({ sshHostKey: _k, sshKeys: _s, host: _h, ...rest }: Record<string, unknown>) => rest) };
    await writeFile(stateFile, JSON.stringify(old));
    // And a save a crash cut short.
    await writeFile(join(dir, 'simulation.json.saving-4242-0badc0de'), '{"ver');

    const second = await start();
    const ssh = second.ssh(id);
    expect(ssh).toBeDefined();
    expect(ssh!.host.installed).toBe(true);
    expect(ssh!.host.modelFiles().checkpoints).toEqual(DEFAULT_MODELS.checkpoints);
    now += 30_000;
    const shown = (await call(second, 'GET', `/api/v0/instances/${id}/`)).instances;
    expect(shown.ports['22/tcp'][0].HostPort).toBe(String(ssh!.port));
    expect(await get(`http://127.0.0.1:${shown.ports['8188/tcp'][0].HostPort}/models/checkpoints`, 'pw')).toEqual(DEFAULT_MODELS.checkpoints);

    await call(second, 'PUT', `/api/v0/instances/${id}/`, { label: 'comfy-vast:2' });
    const rewritten = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(rewritten.version).toBe(2);
    expect(await readdir(dir)).toEqual(['simulation.json']);
    expect(rewritten.instances[0]).toMatchObject({ sshHostKey: expect.stringContaining('PRIVATE KEY'), host: { installed: true } });
  });
});

describe('the fake ComfyUI with a model-file provider', () => {
  it('lists the provided files after its own, in /models, /embeddings and the loaders, as they change', async () => {
    const disk: ModelFiles = { loras: ['a.safetensors'] };
    const comfy = await startFakeComfy({ models: { loras: ['own.safetensors'] }, modelFiles: () => disk });
    open.push(comfy);
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
