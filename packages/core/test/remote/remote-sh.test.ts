import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteLine } from '../../src/remote/lines.js';
import { followJob } from '../../src/remote/remote-job.js';
import type { SshRunner } from '../../src/remote/ssh-runner.js';
import { ManualClock } from '../../src/util/index.js';
import { freePort } from '../helpers/free-port.js';
import { driveWithIo } from './helpers/drive.js';
import { comfyRepository, modelBody, Relay, systemPython, type FileServer } from './helpers/fixtures.js';
import { startRemoteBench, type RemoteBench } from './helpers/remote-bench.js';
import { endpointOf, runnerFor } from './helpers/runner.js';
import type { PrivateSshd } from './helpers/sshd.js';
import { SSHD_TIMEOUT } from './helpers/sshd.js';

// remote.sh itself, on a real OpenSSH server, with every fetch pointed at loopback fixtures.
let bench: RemoteBench | undefined;
let sshd: PrivateSshd;
let files: FileServer;
let runner: SshRunner;
let repo: string;

beforeAll(async () => {
  bench = await startRemoteBench((root) => comfyRepository(root, 1));
  ({ sshd, files, runner } = bench);
  repo = `${files.url}/comfy.git`;
});

afterAll(() => bench?.stop());

const steps = (lines: RemoteLine[]) => lines.flatMap((l) => (l.kind === 'step' ? [l.line] : []));

function setupArgs(job: string, dir: string, port: number, extra: string[] = []): string[] {
  return ['setup', '--job', job, '--dir', dir, '--repo', repo, '--python', systemPython(), '--port', String(port), '--wait', '60', ...extra];
}

// A setup builds a real venv and installs requirements: seconds alone, a minute and more on a loaded machine.
describe('setup', { timeout: 180_000 }, () => {
  it('installs from scratch, then skips every step when run again', async () => {
    const dir = `${sshd.dir}/comfy-a`;
    const port = await freePort();
    const { body, sha256 } = modelBody(200_000, 7);
    const modelUrl = files.addModel('basic.safetensors', body);
    const model = ['--model', 'vae', 'basic.safetensors', modelUrl];

    const first: RemoteLine[] = [];
    const outcome = await followJob(runner, endpointOf(sshd), { args: setupArgs('setup-a1', dir, port, model) }, { onLine: (l) => first.push(l) });
    expect(outcome.done.rc).toBe(0);
    expect(steps(first).map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(steps(first).map((s) => s.name)[2]).toBe('Cloning ComfyUI repository');
    // Steps 2-6 had work to do on a fresh folder (step 1 finds git, python and curl present).
    expect(steps(first).filter((s) => s.skipped).map((s) => s.step)).toEqual([1]);
    expect(sshd.asUser('sha256sum', [`${dir}/models/vae/basic.safetensors`]).slice(0, 64)).toBe(sha256);
    expect(sshd.asUser('git', ['-C', dir, 'log', '--oneline']).trim()).toMatch(/stand-in/);

    const again: RemoteLine[] = [];
    const second = await followJob(runner, endpointOf(sshd), { args: setupArgs('setup-a2', dir, port, model) }, { onLine: (l) => again.push(l) });
    expect(second.done.rc).toBe(0);
    expect(steps(again).map((s) => [s.step, s.skipped])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, true]));

    const status: RemoteLine[] = [];
    await runner.run(endpointOf(sshd), ['status', '--port', String(port)], { onLine: (l) => status.push(l) });
    expect(status).toContainEqual({ kind: 'comfy', line: { comfy: true } });
    expect(status).toContainEqual({ kind: 'job', line: { job: 'setup-a1', kind: 'setup', state: 'done', rc: 0, size: expect.any(Number) } });
  });

  it('keeps running when the connection drops mid-setup and is re-attached from the byte offset reached', async () => {
    const relay = await Relay.start(sshd.port);
    const clock = new ManualClock();
    // The connect timeout runs on the manual clock, which moves ten times faster than the real handshake here.
    // Its own remote folder: one ComfyUI per server, and the first test's stays recorded in the shared one.
    const dropping = await runnerFor(sshd, { clock, random: () => 0, connectTimeoutMs: 600_000, remoteDir: `${sshd.dir}/state-b` });
    try {
      const dir = `${sshd.dir}/comfy-b`;
      const port = await freePort();
      const lines: RemoteLine[] = [];
      let cut = false;
      const onLine = (line: RemoteLine) => {
        lines.push(line);
        // The clone has started: from here the job runs on the server while we are away.
        if (!cut && line.kind === 'step' && line.line.step === 3) {
          cut = true;
          relay.cut();
        }
      };
      const outcome = await driveWithIo(clock, followJob(dropping, endpointOf(sshd, relay.port), { args: setupArgs('setup-b', dir, port) }, { onLine }));
      expect(cut).toBe(true);
      expect(relay.connections).toBeGreaterThanOrEqual(2);
      expect(outcome.done.rc).toBe(0);
      // Every line exactly once: nothing lost, nothing repeated across the re-attach.
      expect(steps(lines).map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(lines.filter((l) => l.kind === 'done')).toHaveLength(1);
      // The job was started once: its folder holds one pid and one log.
      expect(sshd.asUser('ls', [`${sshd.dir}/state-b/jobs/setup-b`]).split('\n')).toEqual(expect.arrayContaining(['log', 'pid', 'rc']));
    } finally {
      dropping.closeAll();
      await relay.close();
    }
  });
});

describe('download', SSHD_TIMEOUT, () => {
  const models = () => `${sshd.dir}/models`;
  const download = (job: string, name: string, url: string, extra: string[] = []) => ({
    args: ['download', '--job', job, '--models', models(), '--folder', 'checkpoints', '--name', name, '--url', url, ...extra],
  });

  it('resumes with a Range request after the file server cuts the transfer midway, then verifies and renames', async () => {
    const { body, sha256 } = modelBody(3_000_000, 11);
    const url = files.addModel('cut.safetensors', body);
    files.cutNext(url, 1_200_000);
    const lines: RemoteLine[] = [];
    const outcome = await followJob(runner, endpointOf(sshd), download('dl-cut', 'cut.safetensors', url, ['--sha256', sha256]), { onLine: (l) => lines.push(l) });
    expect(outcome.done.rc).toBe(0);
    const gets = files.requests.filter((r) => r.method === 'GET' && r.path === '/models/cut.safetensors');
    expect(gets.length).toBeGreaterThanOrEqual(2);
    expect(gets.at(-1)!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(lines.some((l) => l.kind === 'retry')).toBe(true);
    expect(lines.filter((l) => l.kind === 'progress').at(-1)).toEqual({ kind: 'progress', line: { bytes: 3_000_000, total: 3_000_000 } });
    expect(sshd.asUser('sha256sum', [`${models()}/checkpoints/cut.safetensors`]).slice(0, 64)).toBe(sha256);
    expect(existsSync(`${models()}/checkpoints/cut.safetensors.part`)).toBe(false);
  });

  it('fails a checksum mismatch and leaves nothing under the final name', async () => {
    const { body } = modelBody(500_000, 12);
    const url = files.addModel('bad.safetensors', body);
    const outcome = await followJob(runner, endpointOf(sshd), download('dl-bad', 'bad.safetensors', url, ['--sha256', 'a'.repeat(64)]));
    expect(outcome.done.rc).not.toBe(0);
    expect(outcome.error?.reason).toBe('checksum');
    expect(existsSync(`${models()}/checkpoints/bad.safetensors`)).toBe(false);
    expect(existsSync(`${models()}/checkpoints/bad.safetensors.part`)).toBe(false);
  });

  it('lists models with sizes, a partial download shown as partial', async () => {
    sshd.asUser('mkdir', ['-p', `${models()}/loras`]);
    sshd.asUser('sh', ['-c', `head -c 1234 /dev/zero > '${models()}/loras/half.safetensors.part'`]);
    const lines: RemoteLine[] = [];
    const result = await runner.run(endpointOf(sshd), ['models', '--models', models()], { onLine: (l) => lines.push(l) });
    expect(result.exitCode).toBe(0);
    expect(lines).toContainEqual({ kind: 'file', line: { folder: 'loras', name: 'half.safetensors', bytes: 1234, partial: true } });
    expect(lines).toContainEqual({ kind: 'file', line: { folder: 'checkpoints', name: 'cut.safetensors', bytes: 3_000_000, partial: false } });
  });

  it('sends a token read from stdin as a header, never on a command line', async () => {
    const { body } = modelBody(10_000, 13);
    const url = files.addModel('gated.safetensors', body);
    const outcome = await followJob(runner, endpointOf(sshd), { ...download('dl-gated', 'gated.safetensors', url, ['--token-stdin']), stdin: 'hf_secret.Token-1\n' });
    expect(outcome.done.rc).toBe(0);
    const seen = files.requests.filter((r) => r.path === '/models/gated.safetensors').map((r) => r.authorization);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['Bearer hf_secret.Token-1']));
    // The token file the worker read is gone.
    expect(sshd.asUser('ls', [`${sshd.dir}/state/jobs/dl-gated`])).not.toMatch(/token/);
  });
});
