import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { startFakeVast, type FakeVast, type FakeVastOptions } from '@comfy-vast/testkit';
import { afterAll, beforeAll } from 'vitest';
import { run, type Run } from './cli-process.js';
import { ADMIN_TOKEN } from './helpers.js';

/** API server processes on one data directory, provisioning on a fake Vast.ai: a test kills one and starts the next. */
export interface VastProcesses {
  readonly vast: FakeVast;
  /** Starts `comfy-vast serve` as a separate process (the vast provider, polling every second). */
  serve(): Run;
  /** An admin client for a started process, once it listens. */
  adminOf(server: Run): Promise<ApiClient>;
}

/** Registers the fake Vast.ai and the data directory with the file's tests; the last process is killed after them. */
export function useVastProcesses(options: FakeVastOptions): VastProcesses {
  let vast: FakeVast | undefined;
  let dataDir: string | undefined;
  let current: Run | undefined;
  beforeAll(async () => {
    vast = await startFakeVast(options);
    dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-processes-'));
  });
  afterAll(async () => {
    current?.child.kill('SIGKILL');
    await vast?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return {
    get vast() {
      if (!vast) throw new Error('the fake Vast.ai starts before the tests');
      return vast;
    },
    serve() {
      current = run(['serve', '--data-dir', dataDir!], {
        COMFY_VAST_PROVIDER: 'vast',
        VAST_API_KEY: this.vast.apiKey,
        VAST_API_URL: this.vast.url,
        COMFY_VAST_POLL_SECONDS: '1',
        COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN,
      });
      return current;
    },
    async adminOf(server) {
      return createClient({ baseUrl: await server.url, token: ADMIN_TOKEN });
    },
  };
}
