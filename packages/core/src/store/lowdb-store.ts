import { resolve } from 'node:path';
import { Low } from 'lowdb';
import type { z } from 'zod';
import { silentLogger, systemClock, type Clock, type Logger } from '../util/index.js';
import { DocumentFile } from './document-file.js';
import { corruptFileError, fileError } from './errors.js';
import { SnapshotFile, type MetaFile } from './files.js';
import { nodeStoreFs, type StoreFs } from './fs.js';
import { AtomicJsonFile } from './json-file.js';
import { Layout } from './layout.js';
import { DirectoryLock } from './lock.js';
import { emptySnapshot, loadCollections, type LoadedCollection } from './load.js';
import { LogFile } from './log-file.js';
import { migrations as defaultMigrations, type Migration } from './migrations.js';
import { prepareDirectory } from './prepare.js';
import type { CollectionDefinition, StoredRecord } from './store.js';
import { WriteBehindStore, type OpenedCollection } from './write-behind-store.js';

export interface LowdbStoreOptions {
  /** The data directory (the server passes COMFY_VAST_DATA, default ./data); created when missing. */
  dir: string;
  logger?: Logger;
  /** Names the backups made before a migration. */
  clock?: Clock;
  /** The schema's history; defaults to core's `migrations`. */
  migrations?: readonly Migration[];
  /** File operations; defaults to node's. Tests pass one that fails on purpose. */
  fs?: StoreFs;
  /**
   * Size past which a log collection starts a new segment and rebuilds its snapshot (default 4 MiB); a log whose
   * snapshot is larger waits until its segments reach the snapshot's size.
   */
  segmentBytes?: number;
}

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;

/**
 * The embedded default store: lowdb files in a data directory, one per `document` collection, and append-only
 * segments for `log` collections. Everything is read into memory on open; each write resolves once it is durable,
 * and a write that fails rejects with STORE_ERROR after putting memory back as it is on disk.
 * See docs/storage.md for the layout and the guarantees.
 */
export class LowdbStore extends WriteBehindStore {
  #fs: StoreFs;
  #layout: Layout;
  #logger: Logger;
  #segmentBytes: number;
  #lock: DirectoryLock;
  #meta: Low<MetaFile>;
  #loaded: Map<string, LoadedCollection>;
  #files: { close(): Promise<void> }[] = [];

  private constructor(fs: StoreFs, layout: Layout, logger: Logger, segmentBytes: number, lock: DirectoryLock, meta: Low<MetaFile>, loaded: Map<string, LoadedCollection>) {
    super(meta.data.values);
    this.#fs = fs;
    this.#layout = layout;
    this.#logger = logger;
    this.#segmentBytes = segmentBytes;
    this.#lock = lock;
    this.#meta = meta;
    this.#loaded = loaded;
  }

  /** Locks the data directory, migrates it when needed and reads it. */
  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const fs = options.fs ?? nodeStoreFs;
    const logger = (options.logger ?? silentLogger).child({ component: 'store' });
    const layout = new Layout(resolve(options.dir));
    try {
      await fs.mkdir(layout.dir);
    } catch (error) {
      throw fileError('create the data directory', layout.dir, error);
    }
    const lock = await DirectoryLock.acquire(fs, layout.lock, layout.dir, logger);
    try {
      const meta = await prepareDirectory({ fs, layout, logger, clock: options.clock ?? systemClock, migrations: options.migrations ?? defaultMigrations });
      await fs.mkdir(layout.collections).catch((error: unknown) => Promise.reject(fileError('create', layout.collections, error)));
      const loaded = await loadCollections(fs, layout, logger);
      for (const collection of loaded.values()) {
        for (const seq of collection.obsolete) await fs.unlink(layout.segment(collection.name, seq)).catch(() => undefined);
      }
      return new LowdbStore(fs, layout, logger, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, lock, meta, loaded);
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
  }

  get dir(): string {
    return this.#layout.dir;
  }

  protected openCollection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>, nextId: () => number): OpenedCollection<z.infer<S>> {
    type T = z.infer<S>;
    const { name } = definition;
    const loaded = this.#loaded.get(name);
    // Kept until validation passes, so that asking again reports the same error instead of an empty collection.
    const durable = validate(loaded, definition.schema as unknown as z.ZodType<T>);
    this.#loaded.delete(name);
    const snapshot = loaded?.snapshot ?? new Low<SnapshotFile>(new AtomicJsonFile(this.#fs, this.#layout.snapshot(name), SnapshotFile), emptySnapshot());
    const segments = loaded?.segments ?? new Map<number, number>();
    const lastSeq = Math.max(snapshot.data.segment, ...segments.keys());
    const file: LogFile<T> | DocumentFile<T> =
      definition.kind === 'log'
        ? new LogFile<T>({ fs: this.#fs, layout: this.#layout, name, logger: this.#logger, durable, segments, lastSeq, nextId, segmentBytes: this.#segmentBytes, snapshotBytes: loaded?.snapshotBytes ?? 0 })
        : new DocumentFile<T>(this.#fs, snapshot, durable, nextId, { files: [...segments.keys()].map((seq) => this.#layout.segment(name, seq)), lastSeq }, this.#logger);
    this.#files.push(file);
    return {
      records: durable.values(),
      nextId: loaded?.nextId ?? 1,
      backend: file,
      writeError: (error) => fileError('write', this.#layout.snapshot(name), error),
    };
  }

  protected async writeValues(_changed: ReadonlyMap<string, unknown>, all: Readonly<Record<string, unknown>>): Promise<void> {
    // The meta file holds every value: it is rewritten whole.
    this.#meta.data = { schemaVersion: this.#meta.data.schemaVersion, values: { ...all } };
    await this.#meta.write();
  }

  protected valuesError(error: unknown): unknown {
    return error;
  }

  protected async release(): Promise<void> {
    try {
      for (const file of this.#files) await file.close();
    } finally {
      await this.#lock.release();
    }
  }
}

/** Checks every record of a loaded collection against its schema; the first that fails names its file. */
function validate<T extends StoredRecord>(loaded: LoadedCollection | undefined, schema: z.ZodType<T>): Map<number, T> {
  const records = new Map<number, T>();
  if (!loaded) return records;
  for (const [id, raw] of loaded.records) {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw corruptFileError(loaded.sources.get(id) ?? loaded.name, `record ${id} of collection ${loaded.name} does not match its schema (${issue?.message ?? 'invalid'}${where})`, {
        collection: loaded.name,
        id,
      });
    }
    records.set(id, parsed.data);
  }
  return records;
}
