import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PrivatePostgres } from '../../core/test/store/helpers/postgres-server.js';
import { startPrivateRedis, type PrivateRedis } from '../../core/test/store/helpers/redis-server.js';
import { resolveConfig, startServer, type RunningServer } from '../src/index.js';
import { createLogger } from '../src/logger.js';
import { ADMIN_TOKEN, LogCapture } from './helpers.js';

/** A password the private PostgreSQL (trust authentication) ignores, put in every URL so that tests can look for it. */
export const DATABASE_PASSWORD = 'pg-secret-5f3a9c';

/**
 * A private PostgreSQL and Redis for the tests of one file (PostgreSQL is restarted by some of them, so it is never a
 * shared one). Each `database()` is a new, empty PostgreSQL database, reached with a URL that carries a password.
 */
export function useDatabases() {
  let postgres: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startPrivateRedis()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([postgres?.stop(), redis?.stop()]);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  return {
    postgres: () => postgres!,
    redis: () => redis!,
    redisUrl: () => redis!.url,
    /** A new empty database; its URL, with the password. */
    async database(): Promise<string> {
      const name = `test_${randomBytes(6).toString('hex')}`;
      await query(postgres!.url, `CREATE DATABASE ${name}`);
      const url = new URL(postgres!.url);
      url.password = DATABASE_PASSWORD;
      url.pathname = `/${name}`;
      return url.href;
    },
    query,
    /** A new data directory, removed after the file's tests. */
    async dataDir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-server-'));
      dirs.push(dir);
      return dir;
    },
  };
}

/** A query on a connection of its own (tests restart PostgreSQL, which ends every connection). */
async function query<R extends pg.QueryResultRow>(databaseUrl: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

export interface StartedServer extends RunningServer {
  logs: LogCapture;
  printed: string[];
}

/** The API server in this process, on a free port, with the admin token set and its logs and banner captured. */
export async function startOn(env: Record<string, string>): Promise<StartedServer> {
  const config = resolveConfig({ PORT: '0', COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN, COMFY_VAST_LOG_LEVEL: 'debug', COMFY_VAST_SIMULATION_SPEED: '100', ...env });
  const logs = new LogCapture();
  const printed: string[] = [];
  const server = await startServer(config, { logger: createLogger(config.logLevel, logs), print: (line) => printed.push(line) });
  return { ...server, logs, printed };
}
