import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/util/index.js';
import { defineCollection, migrations, type Migration } from '../../src/store/index.js';
import { filesIn, generation, generations, settings, storeHarness } from './helpers.js';

const h = storeHarness();
const fixture = join(import.meta.dirname, 'fixtures', 'v0', 'db.json');
const clock = new ManualClock(Date.UTC(2026, 10, 27, 12, 0, 0));

async function v0Dir(): Promise<string> {
  const dir = await h.dir();
  await copyFile(fixture, join(dir, 'db.json'));
  return dir;
}

/** Version 2 of a made-up schema: settings' `value` renamed to `text`. */
const renameValue: Migration = {
  version: 2,
  description: 'settings.value is now settings.text',
  up(data) {
    for (const record of data.collections.settings?.records ?? []) {
      record.text = record.value;
      delete record.value;
    }
  },
};
const settingsV2 = defineCollection({ name: 'settings', schema: z.object({ id: z.number(), key: z.string(), text: z.string() }) });

describe('schema versions', () => {
  it('migrates version 0 (one db.json) to version 1, backing up the old file first', async () => {
    const dir = await v0Dir();
    const store = await h.open({ dir, clock });
    expect(store.collection(settings).all()).toEqual([
      { id: 1, key: 'theme', value: 'dark' },
      { id: 3, key: 'lang', value: 'en' },
    ]);
    const g = store.collection(generations);
    expect(g.page({ where: (r) => r.userId === 1 }).items.map((r) => r.prompt)).toEqual(['a green frog', 'a red fox']);
    expect(store.getValue('installationId')).toBe('inst-0001');
    expect((await g.insert(generation(5))).id).toBe(5);

    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).schemaVersion).toBe(1);
    expect(await filesIn(dir)).not.toContain('db.json');
    expect(await filesIn(dir)).not.toContain('migration.json');
    const backup = join(dir, 'backups', 'schema-v0-2026-11-27T12-00-00-000Z');
    expect(await readFile(join(backup, 'db.json'), 'utf8')).toBe(await readFile(fixture, 'utf8'));
  });

  it('runs injected migrations in order on data of an older version', async () => {
    const dir = await v0Dir();
    const v1 = await h.open({ dir, clock });
    await v1.collection(settings).insert({ key: 'size', value: '512' });
    await v1.close();

    const store = await h.open({ dir, clock, migrations: [...migrations, renameValue] });
    expect(store.collection(settingsV2).all().map((r) => r.text)).toEqual(['dark', 'en', '512']);
    expect(store.collection(generations).count()).toBe(3);
    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).schemaVersion).toBe(2);
    const backups = await readdir(join(dir, 'backups'));
    expect(backups.sort()).toEqual(['schema-v0-2026-11-27T12-00-00-000Z', 'schema-v1-2026-11-27T12-00-00-000Z']);
    expect(await filesIn(join(dir, 'backups', backups[1]!, 'collections'))).toEqual(['generations.json', 'settings.json']);
  });

  it('refuses data written by a newer version and leaves it alone', async () => {
    const dir = await h.dir();
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ schemaVersion: 2, values: {} }));
    const error = await h.open({ dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_ERROR', details: { schemaVersion: 2, supported: 1 } });
    expect((error as Error).message).toMatch(/schema version 2, written by a newer comfy-vast; this one knows versions up to 1/);
    expect(await filesIn(dir)).toEqual(['meta.json']);
  });

  it('restores the backup and migrates again when a migration was interrupted', async () => {
    const dir = await v0Dir();
    await mkdir(join(dir, 'backups', 'schema-v0-x'), { recursive: true });
    await copyFile(fixture, join(dir, 'backups', 'schema-v0-x', 'db.json'));
    // The crash came after the old file was removed and one new file written.
    await writeFile(join(dir, 'migration.json'), JSON.stringify({ from: 0, to: 1, backup: 'backups/schema-v0-x' }));
    await mkdir(join(dir, 'collections'));
    await writeFile(join(dir, 'collections', 'settings.json'), JSON.stringify({ nextId: 2, segment: 0, records: [{ id: 1, key: 'half', value: 'done' }] }));
    await writeFile(join(dir, 'db.json'), '');

    const store = await h.open({ dir, clock });
    expect(store.collection(settings).all().map((r) => r.key)).toEqual(['theme', 'lang']);
    expect(store.collection(generations).count()).toBe(3);
    expect(await filesIn(dir)).not.toContain('migration.json');
  });

  it('leaves the data as it was when a migration throws', async () => {
    const dir = await v0Dir();
    const broken: Migration = {
      version: 2,
      description: 'fails',
      up() {
        throw new Error('no way');
      },
    };
    await expect(h.open({ dir, clock, migrations: [...migrations, broken] })).rejects.toThrow(/Migration to schema version 2 failed: no way/);
    expect(await readFile(join(dir, 'db.json'), 'utf8')).toBe(await readFile(fixture, 'utf8'));
    expect(await filesIn(dir)).not.toContain('migration.json');
  });

  it('rejects a list of migrations that is not numbered 1, 2, 3...', async () => {
    const dir = await h.dir();
    await expect(h.open({ dir, migrations: [renameValue] })).rejects.toThrow(/numbered 1, 2, 3/);
  });
});
