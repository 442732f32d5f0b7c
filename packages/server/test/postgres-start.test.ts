import { readdir } from 'node:fs/promises';
import { createClient } from '@comfy-vast/server/client';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../core/test/helpers/free-port.js';
import { run } from './cli-process.js';
import { DATABASE_PASSWORD, startOn, useDatabases } from './databases.js';
import { ADMIN_TOKEN, launchServer, raw, until } from './helpers.js';

const db = useDatabases();

describe('the API server on PostgreSQL and Redis', () => {
  it('keeps users, servers and generations in PostgreSQL and images in a directory of their own across a restart, and never shows the password', async () => {
    const databaseUrl = await db.database();
    const dataDir = await db.dataDir();
    const imagesDir = await db.dataDir();
    const env = { COMFY_VAST_DATA: dataDir, COMFY_VAST_DATABASE_URL: databaseUrl, COMFY_VAST_REDIS_URL: db.redisUrl(), COMFY_VAST_IMAGES_DIR: imagesDir };
    const address = `127.0.0.1:${new URL(databaseUrl).port}${new URL(databaseUrl).pathname}`;

    const first = await startOn(env);
    expect(first.printed[0]).toContain(`records in PostgreSQL at ${address} (schema comfy_vast), Redis at ${new URL(db.redisUrl()).host}, local files in ${dataDir}, images in ${imagesDir})`);
    const admin = createClient({ baseUrl: first.url, token: ADMIN_TOKEN });
    const created = await admin.createUser({ body: { username: 'alice' } });
    const alice = createClient({ baseUrl: first.url, token: created.token });
    const serverId = await launchServer(alice);
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'kept in PostgreSQL', parameters: { steps: 3 } } });
    await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
    await first.close();

    // The records are in the database, not in the data directory, which keeps only what is local to this machine.
    const [users] = await db.query<{ count: number }>(databaseUrl, 'SELECT count(*)::integer AS count FROM comfy_vast.users');
    expect(users!.count).toBe(2);
    expect(await readdir(dataDir)).not.toContain('collections');
    expect(await readdir(dataDir)).not.toContain('images');
    expect(await readdir(imagesDir)).toEqual([expect.stringMatching(new RegExp(`^${started.generationId}_\\d+\\.png$`))]);

    const second = await startOn(env);
    const again = createClient({ baseUrl: second.url, token: created.token });
    const [generation] = await again.listGenerations({ params: { serverId } });
    expect(generation).toMatchObject({ id: started.generationId, prompt: 'kept in PostgreSQL', status: 'completed' });
    // Not the last request: a streamed answer's connection may turn idle only after closing began, and then waits out keep-alive.
    expect((await raw(second, generation!.imageUrls[0]!, { token: created.token })).status).toBe(200);
    expect((await again.me()).username).toBe('alice');
    expect((await again.listServers()).map((s) => s.id)).toEqual([serverId]);
    await second.close();

    for (const text of [...first.printed, ...second.printed, first.logs.text, second.logs.text]) expect(text).not.toContain(DATABASE_PASSWORD);
  }, 120_000);

  it('answers health with the store and whether PostgreSQL and Redis answer, and readiness 503 while either is down', async () => {
    const server = await startOn({ COMFY_VAST_DATA: await db.dataDir(), COMFY_VAST_DATABASE_URL: await db.database(), COMFY_VAST_REDIS_URL: db.redisUrl() });
    try {
      // Ready once Redis has said who holds the background lease, which may take a moment after listening.
      const atStart = await until(() => raw(server, '/api/health/ready'), (r) => r.status === 200, 15_000);
      expect(atStart.body).toEqual({ status: 'ready', store: 'postgres', postgres: 'up', redis: 'up', leases: 'known', changes: 'following' });
      expect((await raw(server, '/api/health')).body).toEqual({ status: 'ok', version: expect.any(String), provider: 'simulated', store: 'postgres', postgres: 'up', redis: 'up', leases: 'known', changes: 'following' });

      await db.postgres().restart(async () => {
        const health = await raw(server, '/api/health');
        expect(health).toMatchObject({ status: 200, body: { status: 'ok', store: 'postgres', postgres: 'down' } });
        const ready = await raw(server, '/api/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.headers.get('retry-after')).toBe('5');
        expect(ready.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/^Not ready: PostgreSQL does not answer/), details: { store: 'postgres', postgres: 'down', redis: 'up', leases: 'known' } });
        // Reads are served from memory; a write is refused, and nothing of it is kept.
        expect((await raw(server, '/api/users', { token: ADMIN_TOKEN })).status).toBe(200);
        const write = await raw(server, '/api/users', { token: ADMIN_TOKEN, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'during-outage' }) });
        expect(write).toMatchObject({ status: 500, body: { code: 'STORE_ERROR' } });
        expect(JSON.stringify(write.body)).not.toContain(DATABASE_PASSWORD);
      });
      await until(() => raw(server, '/api/health/ready'), (r) => r.status === 200, 15_000);

      // The private Redis is restarted by this test only (COMFY_VAST_TEST_REDIS_URL names one that may be shared).
      await db.redis().restart?.(async () => {
        expect((await raw(server, '/api/health')).body).toMatchObject({ status: 'ok', postgres: 'up', redis: 'down' });
        const ready = await raw(server, '/api/health/ready');
        // The lease may be given up as well, when Redis stays away long enough.
        expect(ready).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/^Not ready: Redis does not answer/), details: { postgres: 'up', redis: 'down' } } });
        // The API's rate limit cannot be checked: requests are refused rather than let through unlimited.
        expect(await raw(server, '/api/users', { token: ADMIN_TOKEN })).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } });
      });
      await until(() => raw(server, '/api/health/ready'), (r) => r.status === 200, 15_000);
      // The write refused during the outage was not kept, and writes go through again without a restart.
      expect((await raw(server, '/api/users', { token: ADMIN_TOKEN })).body.map((u: { username: string }) => u.username)).toEqual(['admin']);
      const after = await raw(server, '/api/users', { token: ADMIN_TOKEN, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'after-outage' }) });
      expect(after.status).toBe(201);
      expect(JSON.stringify((await raw(server, '/api/health')).body)).not.toContain('127.0.0.1');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('answers health with the embedded store by default, without PostgreSQL', async () => {
    const server = await startOn({ COMFY_VAST_DATA: await db.dataDir() });
    try {
      const health = await raw(server, '/api/health');
      expect(health.body).toEqual({ status: 'ok', version: expect.any(String), provider: 'simulated', store: 'embedded' });
      expect((await raw(server, '/api/health/ready')).body).toEqual({ status: 'ready', store: 'embedded' });
      expect(server.printed[0]).toMatch(/\(data in .+\)$/);
    } finally {
      await server.close();
    }
  });

  it('serves from the command line on PostgreSQL and Redis given as flags, and stops on SIGTERM with exit 0 once everything is written', async () => {
    const databaseUrl = await db.database();
    const serve = run(['serve', '--database-url', databaseUrl, '--redis-url', db.redisUrl()], { COMFY_VAST_DATA: await db.dataDir(), COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN });
    const url = await serve.url;
    const admin = createClient({ baseUrl: url, token: ADMIN_TOKEN });
    await admin.createUser({ body: { username: 'carol' } });
    await until(() => raw({ url }, '/api/health/ready'), (r) => r.status === 200, 15_000);
    serve.child.kill('SIGTERM');
    expect(await serve.exit).toBe(0);
    expect(serve.output()).toContain('records in PostgreSQL at 127.0.0.1:');
    expect(serve.output()).not.toContain(DATABASE_PASSWORD);
    const [row] = await db.query<{ usernames: string[] }>(databaseUrl, `SELECT array_agg(data->>'username' ORDER BY id) AS usernames FROM comfy_vast.users`);
    expect(row!.usernames).toEqual(['admin', 'carol']);
  }, 60_000);

  it('refuses to start when PostgreSQL or Redis cannot be reached, naming host and port only, without a stack', async () => {
    const nowhere = await freePort();
    const database = `postgres://comfy_vast:${DATABASE_PASSWORD}@127.0.0.1:${nowhere}/records`;
    const noPostgres = run(['serve'], { COMFY_VAST_DATA: await db.dataDir(), COMFY_VAST_DATABASE_URL: database, COMFY_VAST_REDIS_URL: db.redisUrl() });
    expect(await noPostgres.exit).toBe(1);
    expect(noPostgres.output()).toContain(`comfy-vast: PostgreSQL at 127.0.0.1:${nowhere}/records cannot be used: Could not prepare the database schema "comfy_vast": PostgreSQL refused the connection`);

    const redis = `redis://:${DATABASE_PASSWORD}@127.0.0.1:${nowhere}`;
    const noRedis = run(['serve'], { COMFY_VAST_DATA: await db.dataDir(), COMFY_VAST_DATABASE_URL: await db.database(), COMFY_VAST_REDIS_URL: redis });
    expect(await noRedis.exit).toBe(1);
    expect(noRedis.output()).toContain(`comfy-vast: Redis at 127.0.0.1:${nowhere} cannot be reached`);

    for (const output of [noPostgres.output(), noRedis.output()]) {
      expect(output).not.toContain(DATABASE_PASSWORD);
      expect(output).not.toMatch(/^\s+at /m);
    }
  }, 60_000);
});
