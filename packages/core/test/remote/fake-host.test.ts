import { sshKeyPair, startFakeSsh, type FakeSsh } from '@comfy-vast/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemoteLine } from '../../src/remote/lines.js';
import { followJob } from '../../src/remote/remote-job.js';
import { loadRemoteScript } from '../../src/remote/remote-script.js';
import { SshRunner, type RemoteHost } from '../../src/remote/ssh-runner.js';
import { ManualClock } from '../../src/util/index.js';
import { driveWithIo } from './helpers/drive.js';
import { memoryPins } from './helpers/runner.js';

// The same runner and line protocol against the testkit's fake host, which simulated servers use.
let fake: FakeSsh;
let runner: SshRunner;
let pins: ReturnType<typeof memoryPins>;
const key = sshKeyPair();
const endpoint = (): RemoteHost => ({ server: 'sim-1', host: '127.0.0.1', port: fake.port, user: 'root' });

beforeEach(async () => {
  fake = await startFakeSsh({ authorizedKey: key.public, tickMs: 5, remoteFiles: { 'https://huggingface.co/a/model.safetensors': { bytes: 4000, sha256: 'b'.repeat(64) } } });
  pins = memoryPins();
  runner = new SshRunner({ privateKey: key.private, pins, script: await loadRemoteScript() });
});

afterEach(async () => {
  runner.closeAll();
  await fake.close();
});

const setupArgs = (job: string) => ['setup', '--job', job, '--dir', '/workspace/ComfyUI', '--repo', 'https://github.com/comfyanonymous/ComfyUI'];

describe('the fake host', () => {
  it('installs remote.sh once, pins its host key, and runs setup, then skips every step', async () => {
    const lines: RemoteLine[] = [];
    const outcome = await followJob(runner, endpoint(), { args: setupArgs('s1') }, { onLine: (l) => lines.push(l) });
    expect(outcome.done.rc).toBe(0);
    expect(lines.flatMap((l) => (l.kind === 'step' ? [l.line.step] : []))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(fake.host.script).toBe(await loadRemoteScript());
    expect(pins.pins.get('sim-1')).toBe(fake.hostKeyFingerprint);

    const again: RemoteLine[] = [];
    await followJob(runner, endpoint(), { args: setupArgs('s2') }, { onLine: (l) => again.push(l) });
    expect(again.filter((l) => l.kind === 'step').every((l) => l.kind === 'step' && l.line.skipped)).toBe(true);
    expect(fake.commands.filter((c) => c.startsWith('umask'))).toHaveLength(1);
    expect(fake.connections).toBe(1);
  });

  it('downloads into the virtual folder, lists it, and fails a checksum mismatch', async () => {
    const url = 'https://huggingface.co/a/model.safetensors';
    const args = (job: string, name: string, sha: string) => ['download', '--job', job, '--models', '/workspace/ComfyUI/models', '--folder', 'loras', '--name', name, '--url', url, '--sha256', sha];
    const progress: RemoteLine[] = [];
    expect((await followJob(runner, endpoint(), { args: args('d1', 'good.safetensors', 'b'.repeat(64)) }, { onLine: (l) => progress.push(l) })).done.rc).toBe(0);
    expect(progress.filter((l) => l.kind === 'progress').at(-1)).toEqual({ kind: 'progress', line: { bytes: 4000, total: 4000 } });
    const bad = await followJob(runner, endpoint(), { args: args('d2', 'bad.safetensors', 'c'.repeat(64)) });
    expect(bad).toMatchObject({ done: { rc: 6 }, error: { reason: 'checksum' } });

    const files: RemoteLine[] = [];
    await runner.run(endpoint(), ['models', '--models', '/workspace/ComfyUI/models'], { onLine: (l) => files.push(l) });
    expect(files).toEqual([
      { kind: 'file', line: { folder: 'loras', name: 'good.safetensors', bytes: 4000, partial: false } },
      { kind: 'done', line: { done: true, rc: 0 } },
    ]);
  });

  it('re-attaches a job after the connection drops, with no line lost or repeated', async () => {
    // Lines far enough apart that the drop lands between two of them.
    await fake.close();
    fake = await startFakeSsh({ authorizedKey: key.public, tickMs: 100 });
    const clock = new ManualClock();
    const dropping = new SshRunner({ privateKey: key.private, pins, script: await loadRemoteScript(), clock, random: () => 0, connectTimeoutMs: 600_000 });
    try {
      const lines: RemoteLine[] = [];
      const onLine = (line: RemoteLine) => {
        lines.push(line);
        if (line.kind === 'step' && line.line.step === 2) fake.dropConnections();
      };
      const outcome = await driveWithIo(clock, followJob(dropping, endpoint(), { args: setupArgs('s3') }, { onLine }));
      expect(outcome.done.rc).toBe(0);
      expect(lines.flatMap((l) => (l.kind === 'step' ? [l.line.step] : []))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(fake.connections).toBeGreaterThanOrEqual(2);
    } finally {
      dropping.closeAll();
    }
  });

  it('refuses a key it does not know, and commands it cannot read', async () => {
    const stranger = new SshRunner({ privateKey: sshKeyPair().private, pins: memoryPins(), script: 'x' });
    await expect(stranger.run(endpoint(), ['status'])).rejects.toMatchObject({ code: 'SSH_ERROR', details: { reason: 'auth' } });
    const usage: RemoteLine[] = [];
    const result = await runner.run(endpoint(), ['download', '--job', 'x', '--models', '/m', '--folder', 'loras', '--name', '../x.pt', '--url', 'https://h/x'], { onLine: (l) => usage.push(l) });
    expect(result.exitCode).toBe(2);
    expect(usage).toEqual([{ kind: 'error', line: { error: 'invalid name', reason: 'usage' } }]);
  });
});
