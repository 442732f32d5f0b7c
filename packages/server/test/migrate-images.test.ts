import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '@comfy-vast/server/client';
import { describe, expect, it } from 'vitest';
import { run } from './cli-process.js';
import { DATABASE_PASSWORD, startOn, useDatabases } from './databases.js';
import { ADMIN_TOKEN, launchServer, raw, until } from './helpers.js';

const db = useDatabases();

async function imageOf(server: { url: string }, url: string, token: string): Promise<{ bytes: Buffer; type: string | null }> {
  const response = await fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return { bytes: Buffer.from(await response.arrayBuffer()), type: response.headers.get('content-type') };
}

describe('comfy-vast migrate --images database', () => {
  it("copies the data directory's images into PostgreSQL, checks each, and the server keeping images there serves them to their owners", async () => {
    const dataDir = await db.dataDir();
    const databaseUrl = await db.database();

    const embedded = await startOn({ COMFY_VAST_DATA: dataDir });
    const admin = createClient({ baseUrl: embedded.url, token: ADMIN_TOKEN });
    const aliceUser = await admin.createUser({ body: { username: 'alice' } });
    const bobUser = await admin.createUser({ body: { username: 'bob' } });
    const alice = createClient({ baseUrl: embedded.url, token: aliceUser.token });
    const serverId = await launchServer(alice);
    for (const seed of [1, 2]) {
      const started = await alice.generate({ params: { serverId }, body: { prompt: 'moved with its images', parameters: { steps: 2, seed } } });
      await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
    }
    const urls = (await alice.listGenerations({ params: { serverId } })).flatMap((g) => g.imageUrls);
    expect(urls).toHaveLength(2);
    const before = await Promise.all(urls.map((url) => imageOf(embedded, url, aliceUser.token)));
    await embedded.close();

    const child = run(['migrate', '--from', dataDir, '--images', 'database'], { COMFY_VAST_DATABASE_URL: databaseUrl });
    const code = await child.exit;
    const output = child.output();
    expect(code, output).toBe(0);
    expect(output).toMatch(/^generations\s+2\s+3$/m);
    expect(output).toContain(`Images: 2 of ${join(dataDir, 'images')} copied into PostgreSQL, each read back with its size. Start the server with`);
    expect(output).toContain(`COMFY_VAST_IMAGES=database and the same data directory (COMFY_VAST_DATA=${dataDir})`);
    expect(output).not.toContain(DATABASE_PASSWORD);
    const rows = await db.query<{ file: string; generation_id: number; size: number }>(databaseUrl, 'SELECT file, generation_id::integer, size FROM comfy_vast._images ORDER BY file');
    expect(rows.map((row) => `/api/comfy/images/${row.file}`)).toEqual([...urls].sort());
    expect(rows.map((row) => row.size).sort()).toEqual(before.map((image) => image.bytes.length).sort());

    // The images folder can go: the server serves them from the database.
    await rm(join(dataDir, 'images'), { recursive: true });
    const onPostgres = await startOn({ COMFY_VAST_DATA: dataDir, COMFY_VAST_DATABASE_URL: databaseUrl, COMFY_VAST_REDIS_URL: db.redisUrl(), COMFY_VAST_IMAGES: 'database' });
    try {
      for (const [i, url] of urls.entries()) {
        expect(await imageOf(onPostgres, url, aliceUser.token)).toEqual(before[i]);
        expect((await raw(onPostgres, url, { token: bobUser.token })).status).toBe(404);
      }
    } finally {
      await onPostgres.close();
    }
  }, 180_000);

  it('leaves the images where they are without the option, as before', async () => {
    const dataDir = await db.dataDir();
    const databaseUrl = await db.database();
    const embedded = await startOn({ COMFY_VAST_DATA: dataDir });
    await embedded.close();
    const child = run(['migrate', '--from', dataDir], { COMFY_VAST_DATABASE_URL: databaseUrl });
    expect(await child.exit, child.output()).toBe(0);
    expect(child.output()).toContain(`Images: 0 in ${join(dataDir, 'images')}, left in place.`);
    expect(await db.query<{ count: number }>(databaseUrl, 'SELECT count(*)::integer AS count FROM comfy_vast._images')).toEqual([{ count: 0 }]);
  }, 60_000);

  it('refuses an images option it does not know, copying nothing', async () => {
    const databaseUrl = await db.database();
    const child = run(['migrate', '--from', await db.dataDir(), '--images', 'elsewhere'], { COMFY_VAST_DATABASE_URL: databaseUrl });
    expect(await child.exit).toBe(1);
    expect(child.output()).toContain("option '--images <where>' argument 'elsewhere' is invalid. Allowed choices are directory, database.");
  }, 30_000);
});
