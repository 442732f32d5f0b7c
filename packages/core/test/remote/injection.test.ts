import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComfyVastError } from '../../src/errors/index.js';
import { ModelDownloads } from '../../src/models/model-downloads.js';
import { ModelUrlLookup } from '../../src/models/url-lookup.js';
import { modelFileNameSchema, modelFolderSchema } from '../../src/remote/inputs.js';
import type { RemoteLine } from '../../src/remote/lines.js';
import { followJob } from '../../src/remote/remote-job.js';
import { shellCommand } from '../../src/remote/shell-quote.js';
import type { SshRunner } from '../../src/remote/ssh-runner.js';
import { MemoryStore } from '../../src/store/index.js';
import { injectionCorpus } from './helpers/corpus.js';
import type { FileServer } from './helpers/fixtures.js';
import { startRemoteBench, type RemoteBench } from './helpers/remote-bench.js';
import { endpointOf } from './helpers/runner.js';
import type { PrivateSshd } from './helpers/sshd.js';
import { SSHD_TIMEOUT } from './helpers/sshd.js';

// The corpus against the real sshd: a marker file must never appear, whichever field carries the value.
let bench: RemoteBench | undefined;
let sshd: PrivateSshd;
let runner: SshRunner;
let files: FileServer;
let marker: string;

beforeAll(async () => {
  bench = await startRemoteBench();
  ({ sshd, files, runner } = bench);
  marker = `${sshd.dir}/INJECTED`;
});

afterAll(() => bench?.stop());

/** Runs one command line on the sshd and answers its stdout. */
function exec(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () =>
      client.exec(command, (error, stream) => {
        if (error) return reject(error);
        let out = '';
        stream.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        stream.stderr.resume();
        stream.on('close', () => {
          client.end();
          resolve(out);
        });
      }),
    );
    client.connect({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey });
  });
}

describe('the quoting helper on a real remote shell', SSHD_TIMEOUT, () => {
  it('delivers every corpus value as one literal argument', async () => {
    const corpus = injectionCorpus(marker);
    // printf prints each argument between markers, so a value split in two or evaluated would show.
    const out = await exec(shellCommand(['printf', '<%s>\\n', ...corpus]));
    expect(out).toBe(corpus.map((value) => `<${value}>\n`).join(''));
    expect(existsSync(marker)).toBe(false);
  });
});

describe('remote.sh with hostile values', SSHD_TIMEOUT, () => {
  it('refuses them as folder and file names, and evaluates none', async () => {
    for (const value of injectionCorpus(marker)) {
      for (const [option, other] of [
        ['--folder', ['--name', 'x.safetensors']],
        ['--name', ['--folder', 'loras']],
      ] as const) {
        const lines: RemoteLine[] = [];
        const result = await runner.run(
          endpointOf(sshd),
          ['download', '--job', 'inject', '--models', `${sshd.dir}/models`, option, value, ...other, '--url', `${files.url}/none`],
          { onLine: (l) => lines.push(l) },
        );
        expect(result.exitCode).toBe(2);
        expect(lines).toContainEqual({ kind: 'error', line: expect.objectContaining({ reason: 'usage' }) });
      }
    }
    expect(existsSync(marker)).toBe(false);
  });

  // One remote job per value, run side by side (the runner keeps to its channel limit): a minute one after another on a
  // loaded machine.
  it('passes them inside a URL to curl as plain text, or refuses the URL', { timeout: 120_000 }, async () => {
    const reasons = await Promise.all(
      injectionCorpus(marker).map((value, i) =>
        followJob(runner, endpointOf(sshd), {
          args: ['download', '--job', `url-${i}`, '--models', `${sshd.dir}/models`, '--folder', 'loras', '--name', `x${i}.safetensors`, '--url', `${files.url}/missing/${value}`],
        }).then(
          (outcome) => outcome.error?.reason,
          (error: ComfyVastError) => error.details.remoteReason,
        ),
      ),
    );
    // A URL with control characters is refused up front; any other reaches the file server as one literal path.
    for (const reason of reasons) expect(['http', 'url', 'usage']).toContain(reason);
    expect(files.requests.map((r) => r.path)).toContain(`/missing/$(touch\${IFS}${marker})`);
    expect(existsSync(marker)).toBe(false);
  });

  it('are refused by the input validation before they get that far', () => {
    for (const value of injectionCorpus(marker)) {
      expect(modelFileNameSchema.safeParse(value).success).toBe(false);
      expect(modelFolderSchema.safeParse(value).success).toBe(false);
    }
  });
});

describe('cancelling a download with hostile values', SSHD_TIMEOUT, () => {
  it('refuses them as job ids, folders and names, and evaluates none', async () => {
    for (const value of injectionCorpus(marker)) {
      for (const args of [
        ['--job', value],
        ['--job', 'cancel-x', '--models', `${sshd.dir}/models`, '--folder', value, '--name', 'x.safetensors'],
        ['--job', 'cancel-x', '--models', `${sshd.dir}/models`, '--folder', 'loras', '--name', value],
      ]) {
        const lines: RemoteLine[] = [];
        const result = await runner.run(endpointOf(sshd), ['cancel', ...args], { onLine: (l) => lines.push(l) });
        // Refused, or (`-rf`, `--help`: plain job id characters) a job that does not exist.
        expect([2, 3]).toContain(result.exitCode);
        expect(lines).toContainEqual({ kind: 'error', line: expect.objectContaining({ reason: result.exitCode === 2 ? 'usage' : 'missing' }) });
      }
    }
    expect(existsSync(marker)).toBe(false);
  }, 90_000);
});

describe('Civitai answers with hostile download URLs', SSHD_TIMEOUT, () => {
  let civitai: Server;
  let origin: string;
  let answer = '';

  beforeAll(async () => {
    civitai = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 1, files: [{ primary: true, downloadUrl: answer }] }));
    });
    await new Promise<void>((resolve) => civitai.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(civitai.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => civitai?.close(resolve));
  });

  it('refuses what is not a URL, and fetches the rest as one literal path', async () => {
    const downloads = new ModelDownloads({
      store: new MemoryStore(),
      remoteOf: () => ({ runner, target: { ...endpointOf(sshd), modelsDir: `${sshd.dir}/models` } }),
      lookup: new ModelUrlLookup({ civitaiOrigin: origin }),
    });
    let fetched = 0;
    for (const [i, value] of injectionCorpus(marker).entries()) {
      answer = `${files.url}/civitai/${value}`;
      const outcome = await downloads
        .request(1, 1, { url: 'https://civitai.com/models/1?modelVersionId=1', folder: 'loras', filename: `civitai-${i}.safetensors` })
        .then(
          ({ download }) => downloads.settled(download.downloadId),
          (error: ComfyVastError) => error.code,
        );
      if (outcome === 'MODEL_NOT_FOUND') continue;
      fetched++;
      expect(outcome).toMatchObject({ status: 'failed' });
    }
    expect(fetched).toBeGreaterThan(0);
    expect(files.requests.map((r) => r.path)).toContain(`/civitai/$(touch\${IFS}${marker})`);
    expect(existsSync(marker)).toBe(false);
    await downloads.close();
  }, 90_000);
});
