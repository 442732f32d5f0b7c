/**
 * The API server under test, started as `comfy-vast serve` starts it (startServer over a fresh data directory,
 * logging silent as a loaded deployment would run at warn), with limits high enough not to refuse the load; with
 * `databaseUrl` and `redisUrl`, one replica of several on PostgreSQL and Redis.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, startServer } from '@comfy-vast/server';
import { serve, wallMs } from '../lib/serve.js';

const { args, ready } = serve<{ token: string; logLevel?: string; databaseUrl?: string; redisUrl?: string; imagesDir?: string }>({
  url: () => server.url,
  stats: () => ({ rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, ...server.app.hub.stats }),
  gc: () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().rss;
  },
  /**
   * When the hub began and finished publishing each generation event, by `<generationId>:<seq>` (wall clock): the
   * library emits it just before, and the end is the last subscriber's socket write.
   */
  published: () => Object.fromEntries(published),
  exit: () => close(),
});

const published = new Map<string, [number, number]>();
const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-bench-'));
const many = 1_000_000_000;
const config = resolveConfig({
  PORT: '0',
  COMFY_VAST_DATA: dataDir,
  COMFY_VAST_ADMIN_TOKEN: args.token,
  COMFY_VAST_LOG_LEVEL: args.logLevel ?? 'warn',
  COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: many, hour: many }, generations: { minute: many, hour: many, day: many } }),
  // One of several replicas (bench/replicas.bench.ts): records in PostgreSQL, what they share in Redis.
  ...(args.databaseUrl ? { COMFY_VAST_DATABASE_URL: args.databaseUrl, COMFY_VAST_REDIS_URL: args.redisUrl, COMFY_VAST_IMAGES_DIR: args.imagesDir } : {}),
});
const server = await startServer(config, { print: () => {} });
const hub = server.app.hub;
const publish = hub.publish.bind(hub);
hub.publish = (key, id, event, options) => {
  const start = wallMs();
  publish(key, id, event, options);
  if ('seq' in event) published.set(`${id}:${event.seq}`, [start, wallMs()]);
};
ready();

async function close(): Promise<void> {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}
