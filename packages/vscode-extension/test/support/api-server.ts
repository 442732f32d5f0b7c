import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, startServer, type RunningServer } from '@comfy-vast/server';
import type { ApiClient } from '@comfy-vast/server/client';
import pino from 'pino';

export const ADMIN_TOKEN = 'extension-test-admin-token-0123456789abcdef';

/** The real comfy-vast API server on an ephemeral loopback port, simulated GPU provider, fresh data folder. */
export async function startApiServer(): Promise<RunningServer & { stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-ext-'));
  const config = resolveConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    COMFY_VAST_DATA: dataDir,
    COMFY_VAST_PROVIDER: 'simulated',
    COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN,
    // A test file runs more than the contract's 10 generations a minute against one server; the limits have tests of their own.
    COMFY_VAST_LIMITS: JSON.stringify({ generations: { minute: 1000, hour: 10_000 } }),
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), print: () => undefined });
  return {
    ...server,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the server reports a status (the simulated provider takes a few seconds to start or stop one). */
export async function waitForStatus(admin: ApiClient, id: number, status: string): Promise<void> {
  for (let i = 0; (await admin.getServer({ params: { id } })).status !== status; i++) {
    if (i > 300) throw new Error(`server ${id} never reached "${status}"`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Creates a GPU server named `gpu-1` on the simulated provider and waits until it runs; resolves with its id. */
export async function launchGpu(admin: ApiClient): Promise<number> {
  const { id } = await admin.createServer({ body: { name: 'gpu-1', gpu: 'RTX 4090' } });
  await waitForStatus(admin, id, 'running');
  return id;
}
