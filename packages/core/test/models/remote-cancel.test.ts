import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteLine } from '../../src/remote/lines.js';
import { followJob } from '../../src/remote/remote-job.js';
import type { SshRunner } from '../../src/remote/ssh-runner.js';
import { modelBody, type FileServer } from '../remote/helpers/fixtures.js';
import { startRemoteBench, type RemoteBench } from '../remote/helpers/remote-bench.js';
import { endpointOf } from '../remote/helpers/runner.js';
import type { PrivateSshd } from '../remote/helpers/sshd.js';
import { SSHD_TIMEOUT } from '../remote/helpers/sshd.js';

// remote.sh `cancel` on a real sshd: the job's processes stop, its followers end, its partial file goes.
let bench: RemoteBench | undefined;
let sshd: PrivateSshd;
let files: FileServer;
let runner: SshRunner;

beforeAll(async () => {
  bench = await startRemoteBench();
  ({ sshd, files, runner } = bench);
});

afterAll(() => bench?.stop());

describe('remote.sh cancel', SSHD_TIMEOUT, () => {
  it('stops a running download and its curl, ends its followers with rc 130, and removes the partial file', async () => {
    files.throttle(80);
    const models = `${sshd.dir}/models`;
    const url = files.addModel('slow.safetensors', modelBody(4_000_000, 21).body);
    const place = ['--models', models, '--folder', 'loras', '--name', 'slow.safetensors'];
    const lines: RemoteLine[] = [];
    const following = followJob(runner, endpointOf(sshd), { args: ['download', '--job', 'dl-cancel', ...place, '--url', url] }, { onLine: (l) => lines.push(l) });
    await expect.poll(() => lines.some((l) => l.kind === 'progress' && l.line.bytes > 0), { timeout: 15_000 }).toBe(true);

    const answer: RemoteLine[] = [];
    const result = await runner.run(endpointOf(sshd), ['cancel', '--job', 'dl-cancel', ...place], { onLine: (l) => answer.push(l) });
    expect(result.exitCode).toBe(0);
    expect(answer).toEqual([{ kind: 'done', line: { done: true, rc: 130 } }]);
    expect(await following).toEqual({ done: { done: true, rc: 130 }, error: { error: 'cancelled', reason: 'cancelled' } });
    await expect.poll(() => files.active, { timeout: 10_000 }).toBe(0);
    expect(existsSync(`${models}/loras/slow.safetensors.part`)).toBe(false);
    expect(existsSync(`${models}/loras/slow.safetensors`)).toBe(false);

    const jobs: RemoteLine[] = [];
    await runner.run(endpointOf(sshd), ['status'], { onLine: (l) => jobs.push(l) });
    expect(jobs).toContainEqual({ kind: 'job', line: expect.objectContaining({ job: 'dl-cancel', state: 'done', rc: 130 }) });

    // Over is over: a second cancel only says how it ended; an unknown job is missing.
    const again: RemoteLine[] = [];
    expect((await runner.run(endpointOf(sshd), ['cancel', '--job', 'dl-cancel'], { onLine: (l) => again.push(l) })).exitCode).toBe(0);
    expect(again).toEqual([{ kind: 'done', line: { done: true, rc: 130 } }]);
    const missing: RemoteLine[] = [];
    expect((await runner.run(endpointOf(sshd), ['cancel', '--job', 'no-such-job'], { onLine: (l) => missing.push(l) })).exitCode).toBe(3);
    expect(missing).toEqual([{ kind: 'error', line: { error: 'no such job', reason: 'missing' } }]);
    files.throttle(0);
  }, 60_000);

  it('leaves a finished job as it is', async () => {
    const models = `${sshd.dir}/models`;
    const url = files.addModel('quick.safetensors', modelBody(10_000, 22).body);
    const place = ['--models', models, '--folder', 'vae', '--name', 'quick.safetensors'];
    expect((await followJob(runner, endpointOf(sshd), { args: ['download', '--job', 'dl-quick', ...place, '--url', url] })).done.rc).toBe(0);
    const answer: RemoteLine[] = [];
    await runner.run(endpointOf(sshd), ['cancel', '--job', 'dl-quick', ...place], { onLine: (l) => answer.push(l) });
    expect(answer).toEqual([{ kind: 'done', line: { done: true, rc: 0 } }]);
    expect(existsSync(`${models}/vae/quick.safetensors`)).toBe(true);
  });
});
