import { createClient } from '@comfy-vast/server/client';
import { describe, expect, it } from 'vitest';
import { run } from './cli-process.js';
import { DATABASE_PASSWORD, startOn, useDatabases } from './databases.js';
import { ADMIN_TOKEN, launchServer, raw, until } from './helpers.js';

const db = useDatabases();

/** `comfy-vast migrate`, as a process of its own; the database URL goes through the environment. */
async function migrate(from: string, to: string): Promise<{ code: number | null; output: string }> {
  const child = run(['migrate', '--from', from], { COMFY_VAST_DATABASE_URL: to });
  const code = await child.exit;
  return { code, output: child.output() };
}

async function imageBytes(server: { url: string }, url: string, token: string): Promise<Buffer> {
  const response = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('comfy-vast migrate', () => {
  it('moves an embedded installation to PostgreSQL: the server started on it answers everything as before, to the same tokens', async () => {
    const dataDir = await db.dataDir();
    const databaseUrl = await db.database();

    const embedded = await startOn({ COMFY_VAST_DATA: dataDir });
    const admin = createClient({ baseUrl: embedded.url, token: ADMIN_TOKEN });
    const aliceUser = await admin.createUser({ body: { username: 'alice' } });
    const bobUser = await admin.createUser({ body: { username: 'bob' } });
    const alice = createClient({ baseUrl: embedded.url, token: aliceUser.token });
    const bob = createClient({ baseUrl: embedded.url, token: bobUser.token });
    // A revoked token leaves its id behind: it must never be given again after the move.
    const revoked = await bob.createToken();
    await bob.revokeToken({ params: { id: revoked.id } });
    const serverId = await launchServer(alice);
    const started = await alice.generate({ params: { serverId }, body: { prompt: 'moved to PostgreSQL', parameters: { steps: 3 } } });
    await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
    await alice.updateScheduleStop({ params: { serverId }, body: { schedule: { autoStop: true, stopTime: '23:30', timezone: 'Europe/Paris', idleStopMinutes: 45 } } });

    const before = {
      users: await admin.listUsers(),
      alice: await alice.me(),
      bob: await bob.me(),
      servers: await alice.listServers(),
      history: await alice.listGenerations({ params: { serverId } }),
      schedule: await alice.getSchedule({ params: { serverId } }),
    };
    const image = await imageBytes(embedded, before.history[0]!.imageUrls[0]!, aliceUser.token);

    const whileRunning = await migrate(dataDir, databaseUrl);
    expect(whileRunning.code).toBe(1);
    expect(whileRunning.output).toContain(`comfy-vast: A comfy-vast process (pid ${process.pid}) is using ${dataDir}: stop the server before migrating`);
    await embedded.close();

    const moved = await migrate(dataDir, databaseUrl);
    expect(moved.code, moved.output).toBe(0);
    expect(moved.output).toMatch(/^users\s+3\s+4$/m);
    expect(moved.output).toMatch(/^tokens\s+3\s+5$/m);
    expect(moved.output).toMatch(/^generations\s+1\s+2$/m);
    expect(moved.output).toMatch(/^servers\s+1\s+2$/m);
    expect(moved.output).toMatch(/^schedules\s+1\s+2$/m);
    expect(moved.output).toContain('Every record id and named value read back from PostgreSQL matches the data directory.');
    expect(moved.output).toContain(`Images: 1 in ${dataDir}/images, left in place.`);
    expect(moved.output).not.toContain(DATABASE_PASSWORD);

    const onPostgres = await startOn({ COMFY_VAST_DATA: dataDir, COMFY_VAST_DATABASE_URL: databaseUrl, COMFY_VAST_REDIS_URL: db.redisUrl() });
    try {
      expect((await raw(onPostgres, '/api/health')).body).toMatchObject({ store: 'postgres', postgres: 'up' });
      const client = (token: string) => createClient({ baseUrl: onPostgres.url, token });
      const [adminAgain, aliceAgain, bobAgain] = [client(ADMIN_TOKEN), client(aliceUser.token), client(bobUser.token)];
      expect(await adminAgain.listUsers()).toEqual(before.users);
      expect(await aliceAgain.me()).toEqual(before.alice);
      expect(await bobAgain.me()).toEqual(before.bob);
      expect((await aliceAgain.listServers()).map((s) => ({ id: s.id, name: s.name }))).toEqual(before.servers.map((s) => ({ id: s.id, name: s.name })));
      expect(await aliceAgain.listGenerations({ params: { serverId } })).toEqual(before.history);
      expect(await aliceAgain.getSchedule({ params: { serverId } })).toEqual(before.schedule);
      expect(await imageBytes(onPostgres, before.history[0]!.imageUrls[0]!, aliceUser.token)).toEqual(image);
      // Still another user's image answers as a missing one.
      expect((await raw(onPostgres, before.history[0]!.imageUrls[0]!, { token: bobUser.token })).status).toBe(404);
      const next = await bobAgain.createToken();
      expect(next.id).toBeGreaterThan(revoked.id);
    } finally {
      await onPostgres.close();
    }

    const again = await migrate(dataDir, databaseUrl);
    expect(again.code).toBe(1);
    expect(again.output).toContain(`comfy-vast: PostgreSQL at ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname} (schema comfy_vast) already holds`);
    expect(again.output).toContain('users (3 records)');
  }, 180_000);

  it('refuses a folder that holds no installation, without creating anything', async () => {
    const result = await migrate('/nonexistent/comfy-vast-data', await db.database());
    expect(result.code).toBe(1);
    expect(result.output).toContain('comfy-vast: There is no embedded installation in /nonexistent/comfy-vast-data (no meta.json)');
  }, 30_000);
});
