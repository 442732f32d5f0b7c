import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, startServer, type RunningServer } from '@comfy-vast/server';
import pino from 'pino';

export const ADMIN_TOKEN = 'extension-test-admin-token-0123456789abcdef';

/** The real comfy-vast API server on an ephemeral loopback port, simulated GPU provider, fresh data folder. */
export async function startApiServer(): Promise<RunningServer & { stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-ext-'));
  const config = resolveConfig({ PORT: '0', HOST: '127.0.0.1', COMFY_VAST_DATA: dataDir, COMFY_VAST_PROVIDER: 'simulated', COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), print: () => undefined });
  return {
    ...server,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
