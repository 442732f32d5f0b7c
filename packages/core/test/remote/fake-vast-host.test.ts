import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshKeyPair, startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemoteLine } from '../../src/remote/lines.js';
import { followJob } from '../../src/remote/remote-job.js';
import { loadRemoteScript } from '../../src/remote/remote-script.js';
import { SshRunner, type RemoteHost } from '../../src/remote/ssh-runner.js';
import { sshEndpointOf } from '../../src/servers/endpoints.js';
import { vastInstanceSchema } from '../../src/vast/index.js';
import { memoryPins } from './helpers/runner.js';

// The simulated provider end to end: instances rented through the fake Vast API serve the fake SSH host on the port
// mapped to 22, with their disk kept in the fake's state file across its restarts.
const NO_LIMITS = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };
const URL_4000 = 'https://huggingface.co/a/model.safetensors';
const launch = { image: 'vastai/comfy:@vastai-automatic-tag', disk: 20, runtype: 'ssh_direc ssh_proxy', env: { '-p 8188:8188': '1', WEB_PASSWORD: 'pw' }, label: 'comfy-vast:1' };
const accountKey = sshKeyPair();

let dir: string;
let now: number;
let pins: ReturnType<typeof memoryPins>;
const open: Array<{ close(): Promise<void> | void }> = [];

async function start(tickMs = 5): Promise<FakeVast> {
  const fake = await startFakeVast({
    now: () => now,
    intervalsMs: NO_LIMITS,
    stateFile: join(dir, 'simulation.json'),
    sshHosts: { tickMs, progressSteps: 8, remoteFiles: { [URL_4000]: { bytes: 4000, sha256: 'b'.repeat(64) } } },
  });
  open.push(fake);
  return fake;
}

async function runner(privateKey = accountKey.private): Promise<SshRunner> {
  const r = new SshRunner({ privateKey, pins, script: await loadRemoteScript(), random: () => 0 });
  open.push({ close: () => r.closeAll() });
  return r;
}

async function call(fake: FakeVast, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(fake.url + path, { method, headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(res.status, `${method} ${path}`).toBe(200);
  return res.json();
}

/** Rents an instance with the account's key registered, and waits (on the fake's clock) until it runs. */
async function rentRunning(fake: FakeVast): Promise<number> {
  await call(fake, 'POST', '/api/v0/ssh/', { ssh_key: accountKey.public });
  const id = (await call(fake, 'PUT', `/api/v0/asks/${fake.offers()[0]!.id}/`, launch)).new_contract as number;
  now += 30_000;
  return id;
}

async function shown(fake: FakeVast, id: number) {
  return vastInstanceSchema.parse((await call(fake, 'GET', `/api/v0/instances/${id}/`)).instances);
}

/** Where core connects, from the instance as the API shows it. */
async function endpoint(fake: FakeVast, id: number): Promise<RemoteHost> {
  const ssh = sshEndpointOf(await shown(fake, id));
  expect(ssh).not.toBeNull();
  return { server: `vast-${id}`, ...ssh! };
}

async function comfyModels(fake: FakeVast, id: number, folder: string): Promise<string[]> {
  const instance = await shown(fake, id);
  const res = await fetch(`http://${instance.public_ipaddr}:${instance.ports!['8188/tcp']![0]!.HostPort}/models/${folder}`, { headers: { authorization: 'Bearer pw' } });
  return res.json() as Promise<string[]>;
}

async function lines(r: SshRunner, host: RemoteHost, args: string[]): Promise<RemoteLine[]> {
  const out: RemoteLine[] = [];
  await r.run(host, args, { onLine: (l) => out.push(l) });
  return out;
}

const MODELS = '/workspace/ComfyUI/models';
const download = (job: string, name: string, url = URL_4000) => ['download', '--job', job, '--models', MODELS, '--folder', 'loras', '--name', name, '--url', url];
const reset = (job: string) => ['reset', '--job', job, '--dir', '/workspace/ComfyUI', '--repo', 'https://github.com/comfyanonymous/ComfyUI'];

/** Starts a download and leaves it once it has written some bytes, as a client that went away would. */
async function leaveMidway(r: SshRunner, host: RemoteHost, args: string[]): Promise<void> {
  const away = new AbortController();
  const run = r.run(host, args, {
    signal: away.signal,
    onLine: (l) => {
      if (l.kind === 'progress' && l.line.bytes > 0) away.abort();
    },
  });
  await run.catch(() => undefined);
  expect(away.signal.aborted).toBe(true);
}

beforeEach(async () => {
  now = 1_000_000;
  dir = await mkdtemp(join(tmpdir(), 'fake-vast-ssh-'));
  pins = memoryPins();
});

afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the fake Vast instance over SSH', () => {
  it('serves SSH on the port mapped to 22, to the account keys and its own, and refuses any other key', async () => {
    const fake = await start();
    const id = await rentRunning(fake);
    const host = await endpoint(fake, id);
    expect(host).toMatchObject({ host: '127.0.0.1', user: 'root', port: fake.ssh(id)!.port });

    const status = await lines(await runner(), host, ['status']);
    expect(status).toEqual([{ kind: 'comfy', line: { comfy: true } }, { kind: 'done', line: { done: true, rc: 0 } }]);
    expect(pins.pins.get(host.server)).toBe(fake.ssh(id)!.hostKeyFingerprint);

    const other = sshKeyPair();
    await expect((await runner(other.private)).run(host, ['status'])).rejects.toMatchObject({ code: 'SSH_ERROR', details: { reason: 'auth' } });
    await call(fake, 'POST', `/api/v0/instances/${id}/ssh/`, { ssh_key: other.public });
    expect((await (await runner(other.private)).run(host, ['status'])).exitCode).toBe(0);

    // A stopped instance serves no SSH; started again, it has the same host key.
    const fingerprint = fake.ssh(id)!.hostKeyFingerprint;
    await call(fake, 'PUT', `/api/v0/instances/${id}/`, { state: 'stopped' });
    expect(fake.ssh(id)).toBeUndefined();
    await call(fake, 'PUT', `/api/v0/instances/${id}/`, { state: 'running' });
    expect(fake.ssh(id)!.hostKeyFingerprint).toBe(fingerprint);
  });

  it('keeps the host key, the setup state, finished jobs and downloaded files across a restart of the fake', async () => {
    const first = await start();
    const id = await rentRunning(first);
    const host = await endpoint(first, id);
    const r1 = await runner();
    expect((await followJob(r1, host, { args: reset('r1') })).done.rc).toBe(0);
    expect((await followJob(r1, host, { args: download('d1', 'mine.safetensors') })).done.rc).toBe(0);
    expect(await comfyModels(first, id, 'loras')).toEqual(['add_detail.safetensors', 'mine.safetensors']);
    const log = (await lines(r1, host, ['tail', '--job', 'd1', '--offset', '0'])).map((l) => l.line);
    const fingerprint = first.ssh(id)!.hostKeyFingerprint;
    const uploads = first.ssh(id)!.commands.filter((c) => c.startsWith('umask')).length;
    r1.closeAll();
    await first.close();
    expect(JSON.parse(await readFile(join(dir, 'simulation.json'), 'utf8')).version).toBe(2);

    const second = await start();
    expect(second.ssh(id)!.hostKeyFingerprint).toBe(fingerprint);
    // Same port, same pinned key: the records our side kept still lead to it.
    expect(await endpoint(second, id)).toEqual(host);
    const r2 = await runner();
    expect(await lines(r2, host, ['status'])).toEqual([
      { kind: 'job', line: { job: 'r1', kind: 'reset', state: 'done', rc: 0, size: expect.any(Number) } },
      { kind: 'job', line: { job: 'd1', kind: 'download', state: 'done', rc: 0, size: expect.any(Number) } },
      { kind: 'comfy', line: { comfy: true } },
      { kind: 'done', line: { done: true, rc: 0 } },
    ]);
    expect((await lines(r2, host, ['tail', '--job', 'd1', '--offset', '0'])).map((l) => l.line)).toEqual(log);
    // remote.sh was kept on the disk: nothing to upload again.
    expect(second.ssh(id)!.commands.filter((c) => c.startsWith('umask'))).toHaveLength(0);
    expect(uploads).toBe(1);
    const files = await lines(r2, host, ['models', '--models', MODELS]);
    expect(files).toContainEqual({ kind: 'file', line: { folder: 'loras', name: 'mine.safetensors', bytes: 4000, partial: false } });
    expect(await comfyModels(second, id, 'loras')).toEqual(['add_detail.safetensors', 'mine.safetensors']);
  });

  it('goes on with a download that was running when the fake stopped, and reports one lost when its instance stopped', async () => {
    const first = await start(30);
    const id = await rentRunning(first);
    const host = await endpoint(first, id);
    const r1 = await runner();
    await leaveMidway(r1, host, download('d1', 'survivor.safetensors'));
    expect(first.ssh(id)!.host.models.get('loras/survivor.safetensors')).toMatchObject({ partial: true });
    expect(await comfyModels(first, id, 'loras')).not.toContain('survivor.safetensors');
    r1.closeAll();
    await first.close();

    const second = await start(5);
    const r2 = await runner();
    const progress: number[] = [];
    const outcome = await followJob(r2, host, { args: download('d1', 'survivor.safetensors') }, { onLine: (l) => l.kind === 'progress' && progress.push(l.line.bytes) });
    expect(outcome.done).toEqual({ done: true, rc: 0 });
    expect(progress).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000]);
    expect(await comfyModels(second, id, 'loras')).toContain('survivor.safetensors');

    second.ssh(id)!.host.setTickMs(30);
    await leaveMidway(r2, host, download('d2', 'victim.safetensors'));
    await call(second, 'PUT', `/api/v0/instances/${id}/`, { state: 'stopped' });
    await call(second, 'PUT', `/api/v0/instances/${id}/`, { state: 'running' });
    now += 30_000;
    // Ports are mapped anew when an instance starts, as on Vast.
    const again = await endpoint(second, id);
    const lost = await followJob(r2, again, { args: download('d2', 'victim.safetensors') });
    expect(lost.done).toEqual({ done: true, rc: 255, lost: true });
    expect(await lines(r2, again, ['status'])).toContainEqual({ kind: 'job', line: { job: 'd2', kind: 'download', state: 'lost', rc: null, size: expect.any(Number) } });
  });

  it('fails downloads on demand, as remote.sh reports a bad checksum or a full disk', async () => {
    const fake = await start();
    const id = await rentRunning(fake);
    const host = await endpoint(fake, id);
    const r = await runner();
    const virtual = fake.ssh(id)!.host;

    virtual.failNextDownload('checksum');
    expect(await followJob(r, host, { args: download('bad', 'bad.safetensors') })).toMatchObject({ done: { rc: 6 }, error: { reason: 'checksum' } });
    expect(virtual.models.has('loras/bad.safetensors')).toBe(false);

    virtual.freeBytes = 1000;
    expect(await followJob(r, host, { args: download('full', 'full.safetensors') })).toMatchObject({ done: { rc: 3 }, error: { reason: 'disk', need: 4000, free: 1000 } });
    expect(await comfyModels(fake, id, 'loras')).toEqual(['add_detail.safetensors']);
  });
});
