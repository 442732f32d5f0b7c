import { readdir } from 'node:fs/promises';
import { createClient } from '@comfy-vast/server/client';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/index.js';
import { run } from './cli-process.js';
import { startOn, useDatabases } from './databases.js';
import { ADMIN_TOKEN, launchServer, raw, until } from './helpers.js';

const db = useDatabases();

/** How each image store is configured, and where its images are found besides the API. */
const stores = {
  async directory() {
    const imagesDir = await db.dataDir();
    return { env: { COMFY_VAST_IMAGES_DIR: imagesDir }, banner: `images in ${imagesDir}`, stored: async () => readdir(imagesDir) };
  },
  async database(databaseUrl: string) {
    return {
      env: { COMFY_VAST_IMAGES: 'database' },
      banner: 'images in PostgreSQL',
      stored: async () => (await db.query<{ file: string }>(databaseUrl, 'SELECT file FROM comfy_vast._images ORDER BY file')).map((row) => row.file),
    };
  },
};

describe.each(['directory', 'database'] as const)('the API server with images in a %s', (kind) => {
  it("serves a generation's image to its owner with its type, length and ETag (304 when unchanged), from any process on the records, and to nobody else", async () => {
    const databaseUrl = await db.database();
    const dataDir = await db.dataDir();
    const store = await stores[kind](databaseUrl);
    const shared = { COMFY_VAST_DATABASE_URL: databaseUrl, COMFY_VAST_REDIS_URL: db.redisUrl(), ...store.env };

    const first = await startOn({ COMFY_VAST_DATA: dataDir, ...shared });
    let url: string;
    let aliceToken: string;
    let bobToken: string;
    let etag: string;
    let bytes: Buffer;
    try {
      expect(first.printed[0]).toContain(`, ${store.banner})`);
      const admin = createClient({ baseUrl: first.url, token: ADMIN_TOKEN });
      aliceToken = (await admin.createUser({ body: { username: 'alice' } })).token;
      bobToken = (await admin.createUser({ body: { username: 'bob' } })).token;
      const alice = createClient({ baseUrl: first.url, token: aliceToken });
      const serverId = await launchServer(alice);
      const started = await alice.generate({ params: { serverId }, body: { prompt: 'kept where configured', parameters: { steps: 2 } } });
      await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed');
      [url] = (await alice.listGenerations({ params: { serverId } }))[0]!.imageUrls as [string];
      const file = url.split('/').pop()!;
      expect(await store.stored()).toEqual([file]);
      // Wherever the images are kept, the data directory keeps none.
      expect(await readdir(dataDir)).not.toContain('images');

      const image = await fetch(`${first.url}${url}`, { headers: { authorization: `Bearer ${aliceToken}` } });
      expect(image.status).toBe(200);
      expect(image.headers.get('content-type')).toBe('image/png');
      bytes = Buffer.from(await image.arrayBuffer());
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      expect(Number(image.headers.get('content-length'))).toBe(bytes.length);
      etag = image.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{20}"$/);
      const unchanged = await raw(first, url, { token: aliceToken, headers: { 'if-none-match': etag } });
      expect(unchanged.status).toBe(304);
      expect(unchanged.headers.get('etag')).toBe(etag);

      expect((await raw(first, url, { token: bobToken })).status).toBe(404);
      expect((await raw(first, '/api/comfy/images/999_1.png', { token: aliceToken })).status).toBe(404);
      expect((await raw(first, '/api/comfy/images/..%2F..%2Fadmin-token', { token: aliceToken })).status).toBe(404);
    } finally {
      await first.close();
    }

    // Another process on the same records, with a data directory of its own, serves the same image.
    const second = await startOn({ COMFY_VAST_DATA: await db.dataDir(), ...shared });
    try {
      const again = await fetch(`${second.url}${url}`, { headers: { authorization: `Bearer ${aliceToken}` } });
      expect(again.status).toBe(200);
      expect(again.headers.get('etag')).toBe(etag);
      expect(Buffer.from(await again.arrayBuffer())).toEqual(bytes);
      expect((await raw(second, url, { token: aliceToken, headers: { 'if-none-match': etag } })).status).toBe(304);
      expect((await raw(second, url, { token: bobToken })).status).toBe(404);
    } finally {
      await second.close();
    }
  }, 120_000);
});

describe('choosing where images are kept', () => {
  it('keeps them in a directory by default, in PostgreSQL when asked, from the environment, the configuration file or a flag', () => {
    const databaseUrl = 'postgres://comfy@db.internal:5432/comfy';
    const both = { COMFY_VAST_DATABASE_URL: databaseUrl, COMFY_VAST_REDIS_URL: 'redis://cache.internal:6379' };
    expect(resolveConfig({}).images).toBe('directory');
    expect(resolveConfig({ ...both, COMFY_VAST_IMAGES: 'database' }).images).toBe('database');
    expect(resolveConfig(both, { images: 'database' }).images).toBe('database');
  });

  it('refuses images in the database without PostgreSQL, beside an images directory, or of an unknown kind', () => {
    const both = { COMFY_VAST_DATABASE_URL: 'postgres://comfy@db.internal:5432/comfy', COMFY_VAST_REDIS_URL: 'redis://cache.internal:6379' };
    expect(() => resolveConfig({ COMFY_VAST_IMAGES: 'database' })).toThrow(
      'COMFY_VAST_IMAGES=database keeps images in PostgreSQL, but COMFY_VAST_DATABASE_URL is not set: set it (see docs/deploy.md), or keep images in a directory.',
    );
    expect(() => resolveConfig({ ...both, COMFY_VAST_IMAGES: 'database', COMFY_VAST_IMAGES_DIR: '/srv/images' })).toThrow('COMFY_VAST_IMAGES_DIR has no use');
    expect(() => resolveConfig({ COMFY_VAST_IMAGES: 's3' })).toThrow(/images/);
  });

  it('ends `serve --images database` without a database with the message alone', async () => {
    const serve = run(['serve', '--images', 'database'], { COMFY_VAST_DATA: await db.dataDir() });
    expect(await serve.exit).toBe(1);
    expect(serve.output()).toBe(
      'comfy-vast: COMFY_VAST_IMAGES=database keeps images in PostgreSQL, but COMFY_VAST_DATABASE_URL is not set: set it (see docs/deploy.md), or keep images in a directory.\n',
    );
  }, 30_000);
});
