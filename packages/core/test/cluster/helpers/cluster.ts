import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRedis, silentLogger, type ComfyVast, type Redis } from '@comfy-vast/core';
import { startFakeVast, type FakeVast, type FakeVastOptions } from '@comfy-vast/testkit';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../store/helpers/redis-server.js';

/** What a test of several API processes opened, closed and removed after it. */
export interface ClusterRig {
  /** The test's fake Vast.ai, once `startVast` started it. */
  readonly vast: FakeVast;
  startVast(options?: FakeVastOptions): Promise<FakeVast>;
  /** A Redis connection of its own, as each process has. */
  redis(): Promise<Redis>;
  /** A new, empty data directory. */
  dataDir(prefix?: string): Promise<string>;
  /** Closes the facade after the test; returns it. */
  track(facade: ComfyVast): ComfyVast;
  /** Closes a tracked facade now, as its process ending would. */
  close(facade: ComfyVast): Promise<void>;
  /** The facades tracked so far in this test, in order. */
  readonly facades: readonly ComfyVast[];
}

/**
 * The set-up the cluster tests of a file share: a private Redis for the file, and per test the processes (facades),
 * their Redis connections, their data directories and one fake Vast.ai, all closed and removed after the test.
 */
export function useClusterRig(): ClusterRig {
  let redis: PrivateRedis | undefined;
  let vast: FakeVast | undefined;
  const clients: Redis[] = [];
  const facades: ComfyVast[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
  }, 60_000);
  afterEach(async () => {
    for (const f of facades.splice(0).reverse()) await f.close().catch(() => undefined);
    for (const c of clients.splice(0)) c.disconnect();
    await vast?.close();
    vast = undefined;
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  return {
    get vast() {
      if (!vast) throw new Error('startVast first');
      return vast;
    },
    async startVast(options = { speed: 100 }) {
      vast = await startFakeVast(options);
      return vast;
    },
    async redis() {
      const client = await openRedis({ url: redis!.url, logger: silentLogger });
      clients.push(client);
      return client;
    },
    async dataDir(prefix = 'comfy-vast-replica-') {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    track(facade) {
      facades.push(facade);
      return facade;
    },
    async close(facade) {
      facades.splice(facades.indexOf(facade), 1);
      await facade.close();
    },
    facades,
  };
}
