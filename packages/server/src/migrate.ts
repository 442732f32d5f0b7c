import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  ComfyVastError,
  DatabaseImageStore,
  defineCollection,
  parseImageName,
  parseOrThrow,
  LowdbStore,
  MemoryCollection,
  type Collection,
  type PostgresStore,
  type Store,
} from '@comfy-vast/core';
import { z } from 'zod';
import { databaseAddress, DatabaseUrl } from './config.js';
import { openPostgres } from './open-postgres.js';

export interface MigrateOptions {
  /** The embedded installation's data directory; no process may be using it. */
  from: string;
  /** The PostgreSQL database to copy into; its schema `comfy_vast` must hold none of the records copied. */
  to: string;
  /** `database` copies the data directory's images into PostgreSQL too; by default they are left where they are. */
  images?: 'directory' | 'database';
  /** Where the report's lines go. */
  print(line: string): void;
}

/** What was copied, as read back from PostgreSQL after the copy. */
export interface MigrationReport {
  /** Per collection, the records copied and the data directory's next id, below which the database gives no id again. */
  collections: { name: string; records: number; nextId: number }[];
  values: number;
  /** The images folder and how many images it holds: left where it is, or copied into PostgreSQL and read back. */
  images: { dir: string; files: number; copied: boolean };
}

/**
 * Every record is copied as it is, whatever its collection: the copy checks only that it is a record (an object
 * with an id), so that it needs no collection's schema, and the server checks each against its own on start.
 */
const AnyRecord = z.looseObject({ id: z.number().int().positive() });
type AnyRecord = z.infer<typeof AnyRecord>;

/** Records written per batch: a batch is one statement, and a large collection is written in several. */
const BATCH = 1000;

/** A collection file in the data directory (docs/storage.md): `<name>.json`, or a log's segment `<name>.<seq>.jsonl`. */
const COLLECTION_FILE = /^([a-z0-9][a-z0-9_-]*)(?:\.\d+\.jsonl|\.json)$/i;

/**
 * Copies an embedded installation (the records of its data directory) into PostgreSQL: every collection and named
 * value, each record with its id, and each collection's next id, so that an id is never given twice. The target must
 * hold none of them yet. Every record's id and every value are then read back from the database and compared.
 * Images stay in the data directory's `images` folder, to be used from there, unless `images` is `database`: then
 * they are copied into PostgreSQL as well, and each is read back and compared.
 */
export async function migrateToPostgres(options: MigrateOptions): Promise<MigrationReport> {
  const to = parseOrThrow(DatabaseUrl, options.to, 'database URL');
  const from = resolve(options.from);
  await checkInstallation(from);
  const source = await openSource(from);
  try {
    const names = await collectionNames(from);
    const keys = await valueKeys(from);
    const imagesDir = join(from, 'images');
    const images = await imageFiles(imagesDir);
    const copyImages = options.images === 'database';
    const target = await openPostgres(to);
    const at = `${databaseAddress(to)} (schema ${target.schema})`;
    try {
      refuseNonEmpty(target, names, keys, at);
      options.print(`Copying ${names.length} collections and ${keys.length} named values from ${from} to PostgreSQL at ${at}`);
      for (const name of names) await copyCollection(open(source, name), open(target, name), at);
      for (const key of keys) await target.setValue(key, source.getValue(key));
      if (copyImages) await copyImageFiles(imagesDir, images, target);
    } finally {
      await target.close();
    }
    const collections = await verify(to, source, names, keys, at, copyImages ? { dir: imagesDir, files: images } : undefined);
    const report = { collections, values: keys.length, images: { dir: imagesDir, files: images.length, copied: copyImages } };
    printReport(report, from, options.print);
    return report;
  } finally {
    await source.close();
  }
}

async function checkInstallation(dir: string): Promise<void> {
  const holds = async (file: string) => (await stat(join(dir, file)).catch(() => null))?.isFile() ?? false;
  if (!(await holds('meta.json')) && !(await holds('db.json'))) {
    throw new ComfyVastError('VALIDATION_ERROR', `There is no embedded installation in ${dir} (no meta.json): name the data directory the server ran with (COMFY_VAST_DATA).`, {
      details: { dir },
    });
  }
}

/** Locks the data directory (a running server holds it: the copy must see every record as final) and brings it up to date. */
async function openSource(dir: string): Promise<LowdbStore> {
  try {
    return await LowdbStore.open({ dir });
  } catch (error) {
    const pid = error instanceof ComfyVastError ? error.details.pid : undefined;
    if (pid === undefined) throw error;
    throw new ComfyVastError('CONFLICT', `A comfy-vast process (pid ${String(pid)}) is using ${dir}: stop the server before migrating, so that the copy sees every record as final.`, {
      details: { dir, pid },
    });
  }
}

async function collectionNames(dir: string): Promise<string[]> {
  const files = await readdir(join(dir, 'collections')).catch(() => []);
  return [...new Set(files.flatMap((file) => COLLECTION_FILE.exec(file)?.[1] ?? []))].sort();
}

/** The named values' keys: meta.json holds them all (docs/storage.md). */
async function valueKeys(dir: string): Promise<string[]> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { values?: Record<string, unknown> };
  return Object.keys(meta.values ?? {}).sort();
}

function open(store: Store, name: string): Collection<AnyRecord> {
  return store.collection(defineCollection({ name, schema: AnyRecord }));
}

/** The next id an embedded collection hands out: past its highest record's when that one was deleted. */
function nextIdOf(collection: Collection<AnyRecord>): number {
  return collection instanceof MemoryCollection ? collection.nextId : (collection.all().at(-1)?.id ?? 0) + 1;
}

function refuseNonEmpty(target: Store, names: string[], keys: string[], at: string): void {
  const held = names.map((name) => open(target, name)).filter((c) => c.count() > 0);
  const values = keys.filter((key) => target.getValue(key) !== undefined);
  if (held.length === 0 && values.length === 0) return;
  const what = [...held.map((c) => `${c.name} (${c.count()} records)`), ...values.map((key) => `value ${key}`)].join(', ');
  throw new ComfyVastError('CONFLICT', `PostgreSQL at ${at} already holds ${what}: migrate copies into an empty schema only. ${DROP_HINT}`, {
    details: { collections: held.map((c) => c.name), values },
  });
}

const DROP_HINT = 'Name another database, or drop the schema if nothing in it is needed.';

/**
 * The store hands out ids itself, in increasing order from 1 in an empty schema: each record is inserted when its
 * id comes up, and an id the data directory no longer holds (its record was deleted) goes to a placeholder, deleted
 * at once, so that the database counts it as handed out and never gives it again.
 */
async function copyCollection(source: Collection<AnyRecord>, target: Collection<AnyRecord>, at: string): Promise<void> {
  const records = new Map(source.all().map(({ id, ...data }) => [id, data]));
  const nextId = nextIdOf(source);
  let batch: Promise<unknown>[] = [];
  for (let id = 1; id < nextId; id++) {
    const data = records.get(id);
    const copied = target.insert(data ?? {}).then(async (record) => {
      if (record.id !== id) {
        throw new ComfyVastError('CONFLICT', `PostgreSQL at ${at} gave id ${record.id} to record ${id} of ${target.name}: its schema has handed out ids before. ${DROP_HINT}`, {
          details: { collection: target.name, id, given: record.id },
        });
      }
      if (!data) await target.delete(id);
    });
    batch.push(copied);
    if (batch.length >= BATCH) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
}

/** Reads the database again, as a server starting on it would, and compares it with the data directory. */
async function verify(url: string, source: Store, names: string[], keys: string[], at: string, images?: { dir: string; files: string[] }): Promise<MigrationReport['collections']> {
  const copy = await openPostgres(url);
  try {
    const collections = names.map((name) => {
      const [from, to] = [open(source, name), open(copy, name)];
      const [expected, found] = [from.all().map((r) => r.id), to.all().map((r) => r.id)];
      if (found.join() !== expected.join()) {
        throw new ComfyVastError('STORE_ERROR', `After the copy, PostgreSQL at ${at} holds ${found.length} records of ${name} where the data directory holds ${expected.length}, or other ids.`, {
          details: { collection: name, expected: expected.length, found: found.length },
        });
      }
      return { name, records: found.length, nextId: nextIdOf(from) };
    });
    const differing = keys.filter((key) => JSON.stringify(copy.getValue(key)) !== JSON.stringify(source.getValue(key)));
    if (differing.length > 0) {
      throw new ComfyVastError('STORE_ERROR', `After the copy, PostgreSQL at ${at} holds other named values than the data directory: ${differing.join(', ')}.`, { details: { values: differing } });
    }
    if (images) await verifyImages(copy, images.dir, images.files, at);
    return collections;
  } finally {
    await copy.close();
  }
}

/** The images of an images folder: the files named as comfy-vast names them. */
async function imageFiles(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch(() => []);
  return files.filter((file) => parseImageName(file) !== undefined).sort();
}

/** Each image saved as the server saves it, one at a time (each is held in memory whole): it gets the same name. */
async function copyImageFiles(dir: string, files: string[], target: PostgresStore): Promise<void> {
  const images = new DatabaseImageStore({ store: target });
  for (const file of files) {
    const { generationId, n, contentType } = parseImageName(file)!;
    await images.save(generationId, n, { stream: createReadStream(join(dir, file)), contentType, contentLength: undefined }, file);
  }
}

/** Every image is in the database with the size of its file: the count and each one. */
async function verifyImages(copy: PostgresStore, dir: string, files: string[], at: string): Promise<void> {
  const images = new DatabaseImageStore({ store: copy });
  const differing: string[] = [];
  for (const file of files) {
    const [stored, original] = await Promise.all([images.stat(file), stat(join(dir, file))]);
    if (stored?.size !== original.size) differing.push(file);
  }
  if (differing.length > 0) {
    throw new ComfyVastError('STORE_ERROR', `After the copy, PostgreSQL at ${at} lacks ${differing.length} of the ${files.length} images of ${dir}, or holds them with other sizes: ${differing.slice(0, 5).join(', ')}.`, {
      details: { images: differing.length },
    });
  }
}

function printReport(report: MigrationReport, from: string, print: (line: string) => void): void {
  const width = Math.max(10, ...report.collections.map((c) => c.name.length));
  print(`${'collection'.padEnd(width)}  records  next id`);
  for (const c of report.collections) print(`${c.name.padEnd(width)}  ${String(c.records).padStart(7)}  ${String(c.nextId).padStart(7)}`);
  print(`${report.values} named value${report.values === 1 ? '' : 's'}. Every record id and named value read back from PostgreSQL matches the data directory.`);
  if (report.images.copied) {
    print(`Images: ${report.images.files} of ${report.images.dir} copied into PostgreSQL, each read back with its size. Start the server with`);
    print(`COMFY_VAST_IMAGES=database and the same data directory (COMFY_VAST_DATA=${from}), which keeps the SSH key your servers were set up with.`);
    return;
  }
  print(`Images: ${report.images.files} in ${report.images.dir}, left in place. Start the server with the same data directory`);
  print(`(COMFY_VAST_DATA=${from}), which keeps the SSH key your servers were set up with, or point COMFY_VAST_IMAGES_DIR there.`);
}
