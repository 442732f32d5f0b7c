import { join } from 'node:path';
import { Low } from 'lowdb';
import { ComfyVastError } from '../errors/index.js';
import type { Clock, Logger } from '../util/index.js';
import { removeTempFiles, writeFileAtomic } from './atomic-write.js';
import { fileError } from './errors.js';
import { errnoCode, type StoreFs } from './fs.js';
import { LegacyFile, MarkerFile, MetaFile, type SnapshotFile } from './files.js';
import { AtomicJsonFile } from './json-file.js';
import { parseCollectionFile, type Layout } from './layout.js';
import { loadCollections } from './load.js';
import type { Migration, StoredData } from './migrations.js';

export interface PrepareOptions {
  fs: StoreFs;
  layout: Layout;
  clock: Clock;
  logger: Logger;
  migrations: readonly Migration[];
}

/**
 * Brings a locked data directory to the code's schema version: finishes recovery from a crash (an interrupted
 * migration, stray temp files), refuses data from a newer version, and migrates older data after backing it up.
 * Returns lowdb over meta.json.
 */
export async function prepareDirectory(options: PrepareOptions): Promise<Low<MetaFile>> {
  const { fs, layout, logger } = options;
  const latest = latestVersion(options.migrations);
  await restoreInterruptedMigration(options);
  for (const dir of [layout.dir, layout.collections]) {
    const removed = await removeTempFiles(fs, dir).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return [];
      throw fileError('clean up', dir, error);
    });
    if (removed.length > 0) logger.warn({ dir, files: removed }, 'removed temp files left by an interrupted write');
  }
  const meta = new Low<MetaFile>(new AtomicJsonFile(fs, layout.meta, MetaFile), { schemaVersion: latest, values: {} });
  const found = await currentVersion(options, meta);
  if (found === null) {
    await meta.write();
    return meta;
  }
  if (found > latest) {
    throw new ComfyVastError(
      'STORE_ERROR',
      `The data in ${layout.dir} has schema version ${found}, written by a newer comfy-vast; this one knows versions up to ${latest}. Run the newer comfy-vast, or restore a backup made before the upgrade (in ${layout.backups}).`,
      { details: { file: layout.meta, schemaVersion: found, supported: latest } },
    );
  }
  if (found < latest) await migrate(options, meta, found, latest);
  return meta;
}

function latestVersion(list: readonly Migration[]): number {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new ComfyVastError('STORE_ERROR', `Migrations must be numbered 1, 2, 3... in order; found version ${m.version} at position ${i + 1}`, {
        details: { version: m.version },
      });
    }
  });
  return list.length;
}

/** The version on disk: meta.json's, 0 for a lone db.json, null for an empty directory. */
async function currentVersion({ fs, layout }: PrepareOptions, meta: Low<MetaFile>): Promise<number | null> {
  const onDisk = await meta.adapter.read();
  if (onDisk) {
    meta.data = onDisk;
    return onDisk.schemaVersion;
  }
  if ((await new AtomicJsonFile(fs, layout.legacy, LegacyFile).read()) !== null) return 0;
  if ((await dataFiles(fs, layout.dir)).length > 0) {
    throw new ComfyVastError(
      'STORE_ERROR',
      `${layout.meta} is missing although ${layout.collections} holds data, so its schema version is unknown. Restore meta.json from a backup (in ${layout.backups}).`,
      { details: { file: layout.meta } },
    );
  }
  return null;
}

async function migrate(options: PrepareOptions, meta: Low<MetaFile>, from: number, to: number): Promise<void> {
  const { fs, layout, clock, logger } = options;
  const backup = join('backups', `schema-v${from}-${new Date(clock.now()).toISOString().replace(/[:.]/g, '-')}`);
  await guarded('back up the data to', join(layout.dir, backup), async () => {
    await copyDataFiles(fs, layout.dir, join(layout.dir, backup));
    await writeFileAtomic(fs, layout.marker, [JSON.stringify({ from, to, backup })]);
  });
  logger.info({ from, to, backup }, 'migrating the data directory');
  let data = from === 0 ? await readLegacy(options) : await readCurrent(options, meta);
  for (const migration of options.migrations.slice(from)) {
    try {
      data = migration.up(data) ?? data;
    } catch (error) {
      await fs.unlink(layout.marker).catch(() => undefined);
      throw new ComfyVastError('STORE_ERROR', `Migration to schema version ${migration.version} failed: ${(error as Error).message}. The data was left as it was.`, {
        details: { version: migration.version },
        cause: error,
      });
    }
  }
  await guarded('write the migrated data to', layout.dir, async () => {
    await removeDataFiles(fs, layout);
    await fs.mkdir(layout.collections);
    for (const [name, collection] of Object.entries(data.collections)) {
      const snapshot: SnapshotFile = { nextId: collection.nextId, segment: 0, records: collection.records };
      await writeFileAtomic(fs, layout.snapshot(name), [JSON.stringify(snapshot)]);
    }
    meta.data = { schemaVersion: to, values: data.values };
    await meta.write();
    await fs.unlink(layout.marker);
    await fs.syncDir(layout.dir);
  });
  logger.info({ from, to }, 'data directory migrated');
}

async function readLegacy({ fs, layout }: PrepareOptions): Promise<StoredData> {
  const legacy = (await new AtomicJsonFile(fs, layout.legacy, LegacyFile).read())!;
  const collections: StoredData['collections'] = {};
  for (const [name, records] of Object.entries(legacy.collections)) {
    collections[name] = { nextId: records.reduce((max, r) => Math.max(max, r.id), 0) + 1, records };
  }
  return { values: legacy.values, collections };
}

async function readCurrent({ fs, layout, logger }: PrepareOptions, meta: Low<MetaFile>): Promise<StoredData> {
  const collections: StoredData['collections'] = {};
  for (const [name, loaded] of await loadCollections(fs, layout, logger)) {
    collections[name] = { nextId: loaded.nextId, records: [...loaded.records.values()] };
  }
  return { values: meta.data.values, collections };
}

/** A crash during a migration leaves its marker: put the backup back so that the migration runs again from the start. */
async function restoreInterruptedMigration({ fs, layout, logger }: PrepareOptions): Promise<void> {
  const marker = await new AtomicJsonFile(fs, layout.marker, MarkerFile).read();
  if (!marker) return;
  const backup = join(layout.dir, marker.backup);
  logger.warn({ backup, from: marker.from, to: marker.to }, 'a migration was interrupted; restoring the data from its backup');
  await guarded('restore the data from', backup, async () => {
    await removeDataFiles(fs, layout);
    await copyDataFiles(fs, backup, layout.dir);
    await fs.unlink(layout.marker);
    await fs.syncDir(layout.dir);
  });
}

/** The data files under `root` (meta.json, db.json and the collections' files), relative to it. */
async function dataFiles(fs: StoreFs, root: string): Promise<string[]> {
  const list = async (dir: string) => fs.readdir(dir).catch((error: unknown) => (errnoCode(error) === 'ENOENT' ? [] : Promise.reject(error)));
  const top = (await list(root)).filter((name) => name === 'meta.json' || name === 'db.json');
  const collections = (await list(join(root, 'collections'))).filter((name) => parseCollectionFile(name) !== null);
  return [...top, ...collections.map((name) => join('collections', name))];
}

async function copyDataFiles(fs: StoreFs, from: string, to: string): Promise<void> {
  await fs.mkdir(join(to, 'collections'));
  // Copied through an atomic write so that each copy is fsynced before the originals are touched.
  for (const file of await dataFiles(fs, from)) await writeFileAtomic(fs, join(to, file), [await fs.readFile(join(from, file))]);
  await fs.syncDir(join(to, 'collections'));
  await fs.syncDir(to);
}

async function removeDataFiles(fs: StoreFs, layout: Layout): Promise<void> {
  for (const file of await dataFiles(fs, layout.dir)) await fs.unlink(join(layout.dir, file));
}

async function guarded(action: string, path: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    throw fileError(action, path, error);
  }
}
