import { sshKeyPair, startFakeSsh, type FakeSsh, type FakeSshOptions } from '@comfy-vast/testkit';
import { afterEach, beforeEach } from 'vitest';
import type { Redis } from '../../../src/cluster/index.js';
import { ModelDownloads, type ModelDownloadsOptions } from '../../../src/models/model-downloads.js';
import type { RemoteLine } from '../../../src/remote/lines.js';
import { loadRemoteScript } from '../../../src/remote/remote-script.js';
import { SshRunner } from '../../../src/remote/ssh-runner.js';
import { MemoryStore } from '../../../src/store/index.js';
import { memoryPins } from '../../remote/helpers/runner.js';
import { usePrivateRedis } from '../../store/helpers/use-redis.js';

export const MODELS = '/workspace/ComfyUI/models';

/** What a download test works with; `fake`, `runner` and `store` are new for each test. */
export interface FakeHostRig {
  /** The testkit's SSH host, which simulated servers use. */
  readonly fake: FakeSsh;
  readonly runner: SshRunner;
  readonly store: MemoryStore;
  /** A private Redis, one for the file. */
  readonly redis: Redis;
  /** The fake host as a command addresses it. */
  where(): { server: string; host: string; port: number; user: string };
  /** A download service on the fake host (its other options as given), closed after the test. */
  downloads(options?: Partial<ModelDownloadsOptions>): ModelDownloads;
  /** The ids of every download job the host has. */
  jobsOnHost(): Promise<string[]>;
}

/**
 * ModelDownloads against the fake SSH host: registers the file's hooks (a private Redis for the file; per test a
 * fresh host, with `host` options over small quick defaults, a runner to it and a memory store).
 */
export function useFakeHost(host: FakeSshOptions = {}): FakeHostRig {
  const key = sshKeyPair();
  const redis = usePrivateRedis();
  let fake: FakeSsh | undefined;
  let runner: SshRunner | undefined;
  let store = new MemoryStore();
  let open: ModelDownloads[] = [];

  beforeEach(async () => {
    fake = await startFakeSsh({ authorizedKey: key.public, tickMs: 10, progressSteps: 8, defaultBytes: 4000, ...host });
    runner = new SshRunner({ privateKey: key.private, pins: memoryPins(), script: await loadRemoteScript() });
    store = new MemoryStore();
    open = [];
  });
  afterEach(async () => {
    await Promise.all(open.map((d) => d.close()));
    runner?.closeAll();
    await fake?.close();
  });

  const rig: FakeHostRig = {
    get fake() {
      return fake!;
    },
    get runner() {
      return runner!;
    },
    get store() {
      return store;
    },
    get redis() {
      return redis.admin;
    },
    where: () => ({ server: 'sim-1', host: '127.0.0.1', port: fake!.port, user: 'root' }),
    downloads(options = {}) {
      const target = { ...rig.where(), modelsDir: MODELS };
      const service = new ModelDownloads({ store, remoteOf: () => ({ runner: runner!, target }), ...options });
      open.push(service);
      return service;
    },
    async jobsOnHost() {
      const jobs: string[] = [];
      await runner!.run(rig.where(), ['status'], { onLine: (line: RemoteLine) => void (line.kind === 'job' && jobs.push(line.line.job)) });
      return jobs;
    },
  };
  return rig;
}
