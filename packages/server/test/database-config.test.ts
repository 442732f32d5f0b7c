import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseAddress } from '../src/config.js';
import { resolveConfig } from '../src/index.js';
import { run } from './cli-process.js';

const DATABASE = 'postgres://comfy:db-pass-771@db.internal:6543/comfy?sslmode=require';
const REDIS = 'redis://:redis-pass-882@cache.internal:6380/2';

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('PostgreSQL and Redis in the configuration', () => {
  it('takes both URLs from the environment, the configuration file or flags, and neither by default', async () => {
    const neither = resolveConfig({});
    expect([neither.databaseUrl, neither.redisUrl, neither.imagesDir]).toEqual([undefined, undefined, undefined]);
    expect(resolveConfig({ COMFY_VAST_DATABASE_URL: DATABASE, COMFY_VAST_REDIS_URL: REDIS, COMFY_VAST_IMAGES_DIR: '/shared/images' })).toMatchObject({
      databaseUrl: DATABASE,
      redisUrl: REDIS,
      imagesDir: '/shared/images',
    });
    const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-config-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ databaseUrl: DATABASE, redisUrl: REDIS }));
      expect(resolveConfig({}, { config: file })).toMatchObject({ databaseUrl: DATABASE, redisUrl: REDIS });
      const other = 'postgresql://other@db2.internal/records';
      expect(resolveConfig({ COMFY_VAST_CONFIG: file }, { databaseUrl: other })).toMatchObject({ databaseUrl: other, redisUrl: REDIS });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses one without the other, saying which is missing', () => {
    expect(refusal(() => resolveConfig({ COMFY_VAST_DATABASE_URL: DATABASE }))).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'COMFY_VAST_DATABASE_URL is set but COMFY_VAST_REDIS_URL is not: PostgreSQL and Redis are used together. Set both (see docs/deploy.md), or neither for the embedded store.',
    });
    expect(refusal(() => resolveConfig({}, { redisUrl: REDIS })).message).toContain('COMFY_VAST_REDIS_URL is set but COMFY_VAST_DATABASE_URL is not');
  });

  it('refuses a URL of another kind without repeating it', () => {
    const mysql = refusal(() => resolveConfig({ COMFY_VAST_DATABASE_URL: 'mysql://comfy:db-pass-771@db.internal/comfy', COMFY_VAST_REDIS_URL: REDIS }));
    expect(mysql).toMatchObject({ code: 'VALIDATION_ERROR', message: 'Invalid configuration: databaseUrl must be postgres://user:password@host:port/database' });
    const redis = refusal(() => resolveConfig({ COMFY_VAST_DATABASE_URL: DATABASE, COMFY_VAST_REDIS_URL: 'http://:redis-pass-882@cache.internal' }));
    expect(redis.message).toBe('Invalid configuration: redisUrl must be redis://[user:password@]host:port[/db] or rediss://...');
    for (const error of [mysql, redis]) expect(JSON.stringify(error) + error.message).not.toMatch(/pass-\d+/);
  });

  it('names a database by host, port and name only', () => {
    expect(databaseAddress(DATABASE)).toBe('db.internal:6543/comfy');
    expect(databaseAddress('postgres://comfy:secret@db.internal/')).toBe('db.internal:5432');
    expect(databaseAddress('postgresql://comfy:secret@[::1]:5433/my%20db')).toBe('[::1]:5433/my db');
  });

  it('sends `users add` to the API when the records are in PostgreSQL', async () => {
    const add = run(['users', 'add', 'dave'], { COMFY_VAST_DATABASE_URL: DATABASE, COMFY_VAST_REDIS_URL: REDIS });
    expect(await add.exit).toBe(1);
    expect(add.output()).toBe(
      'comfy-vast: the records are in PostgreSQL (COMFY_VAST_DATABASE_URL): create users through the API, POST /api/users with the admin token (see docs/deploy.md).\n',
    );
  }, 30_000);

  it('ends `serve` with the message alone when only one is given', async () => {
    const serve = run(['serve'], { COMFY_VAST_DATA: join(tmpdir(), 'comfy-vast-never-created'), COMFY_VAST_DATABASE_URL: DATABASE });
    expect(await serve.exit).toBe(1);
    expect(serve.output()).toBe(
      'comfy-vast: COMFY_VAST_DATABASE_URL is set but COMFY_VAST_REDIS_URL is not: PostgreSQL and Redis are used together. Set both (see docs/deploy.md), or neither for the embedded store.\n',
    );
  }, 30_000);
});
