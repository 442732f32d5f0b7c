/**
 * The API server under test, started as `comfy-vast serve` starts it (startServer over a fresh data directory,
 * logging silent as a loaded deployment would run at warn), with limits high enough not to refuse the load.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, startServer } from '@comfy-vast/server';
import { serve, wallMs } from '../lib/serve.js';

const { args, ready } = serve<{ token: string; logLevel?: string }>({
  url: () => server.url,
  stats: () => ({ rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, ...server.app.hub.stats }),
  gc: () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().rss;
  },
  /** When each generation event left the library, by `<generationId>:<seq>` (wall clock). */
  emitted: () => Object.fromEntries(emitted),
  exit: () => close(),
});

const emitted = new Map<string, number>();
const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-bench-'));
const many = 1_000_000_000;
const config = resolveConfig({
  PORT: '0',
  COMFY_VAST_DATA: dataDir,
  COMFY_VAST_ADMIN_TOKEN: args.token,
  COMFY_VAST_LOG_LEVEL: args.logLevel ?? 'warn',
  COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: many, hour: many }, generations: { minute: many, hour: many, day: many } }),
});
const server = await startServer(config, { print: () => {} });
server.comfyVast.on('generation:event', (e) => emitted.set(`${e.generationId}:${e.seq}`, wallMs()));
ready();

async function close(): Promise<void> {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
