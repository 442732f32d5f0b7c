import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import { ComfyVastError } from '../../errors/index.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../../util/index.js';
import type { CollectionDefinition, StoredRecord } from '../store.js';
import { WriteBehindStore, type OpenedCollection } from '../write-behind-store.js';
import { valueNotices } from './change-notices.js';
import { ChangeListener } from './change-listener.js';
import { CollectionTable, type DurableRecord } from './collection-table.js';
import { checkSchemaName, databaseError, openPool, tableName } from './connection.js';
import { IdBlocks } from './id-blocks.js';
import { loadSchema, type LoadedTable } from './load.js';
import { migrate, postgresMigrations, type PostgresMigration } from './migrations.js';
import { RemoteChanges, type RemoteChange, type RemoteTarget } from './remote-changes.js';
import { VALUES_TABLE } from './tables.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`, with `?sslmode=...` and the other parameters `pg` reads. */
  url: string;
  /** The schema that holds comfy-vast's tables (default `comfy_vast`); created when missing. */
  schema?: string;
  logger?: Logger;
  /** Dates the migrations applied. */
  clock?: Clock;
  /** Connections kept open (default 5); each collection writes on one at a time. */
  poolSize?: number;
  /** The database schema's history; defaults to core's `postgresMigrations`. */
  migrations?: readonly PostgresMigration[];
  /** Ids each collection reserves at a time (default 100): see docs/storage.md on ids across processes. */
  idBlockSize?: number;
}

const DEFAULT_SCHEMA = 'comfy_vast';
const DEFAULT_POOL_SIZE = 5;
const DEFAULT_ID_BLOCK_SIZE = 100;
/** The listening connection reconnects after this, doubling up to `maxMs`. */
const LISTEN_BACKOFF = { initialMs: 100, maxMs: 5000 };

interface StoreParts {
  pool: pg.Pool;
  schema: string;
  logger: Logger;
  clock: Clock;
  tables: Map<string, LoadedTable>;
  values: Record<string, unknown>;
  sender: string;
  listener: ChangeListener;
  idBlockSize: number;
}

/**
 * The store on PostgreSQL: a table per collection. Like the embedded store, everything is read into memory on
 * open and reads are served from memory; each batch of writes is one transaction and resolves once committed, and
 * a write that fails rejects after putting memory back as the database holds it. Several processes may open the
 * same schema: ids come in blocks reserved in the database, and every write is announced (NOTIFY) so that the
 * others apply it to their memory. See docs/storage.md.
 */
export class PostgresStore extends WriteBehindStore {
  #pool: pg.Pool;
  #schema: string;
  #logger: Logger;
  /** The collections read at open and not asked for yet, kept up to date with the others' changes. */
  #tables: Map<string, LoadedTable>;
  /** The NOTIFY channel: the schema's name, so that stores on different schemas do not hear each other. */
  #channel: string;
  #sender: string;
  #idBlockSize: number;
  #idBlocks: IdBlocks[] = [];
  #opened = new Map<string, RemoteTarget>();
  #listener: ChangeListener;
  #remote: RemoteChanges;

  private constructor(parts: StoreParts) {
    super(parts.values);
    this.#pool = parts.pool;
    this.#schema = parts.schema;
    this.#channel = parts.schema;
    this.#logger = parts.logger;
    this.#tables = parts.tables;
    this.#sender = parts.sender;
    this.#listener = parts.listener;
    this.#idBlockSize = parts.idBlockSize;
    this.#remote = new RemoteChanges({
      pool: parts.pool,
      schema: parts.schema,
      sender: parts.sender,
      clock: parts.clock,
      logger: parts.logger,
      target: (name) => this.#opened.get(name) ?? this.#loadedTarget(name),
      collections: () => [...this.#opened.keys(), ...this.#tables.keys()],
      valueKeys: () => this.valueKeys(),
      value: (key) => this.getValue(key),
      applyValue: (key, value) => this.applyRemoteValue(key, value),
    });
  }

  /**
   * Connects, migrates the schema (under an advisory lock), listens to the other processes' changes and reads every
   * collection: the changes announced while it reads are applied once it has.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    checkSchemaName(schema);
    const logger = (options.logger ?? silentLogger).child({ component: 'store' });
    const clock = options.clock ?? systemClock;
    const pool = openPool(options.url, options.poolSize ?? DEFAULT_POOL_SIZE, logger);
    let store: PostgresStore | undefined;
    const early: string[] = [];
    let opened: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (opened = resolve));
    const listener = new ChangeListener({
      url: options.url,
      channel: schema,
      clock,
      logger,
      backoff: LISTEN_BACKOFF,
      onNotice: (payload) => (store ? store.#remote.notice(payload) : early.push(payload)),
      catchUp: async () => {
        await ready;
        await store!.#remote.catchUp();
      },
    });
    try {
      await migrate({ pool, schema, migrations: options.migrations ?? postgresMigrations, clock, logger });
      await listener.start();
      const { tables, values } = await loadSchema(pool, schema);
      const sender = randomBytes(8).toString('hex');
      store = new PostgresStore({ pool, schema, logger, clock, tables, values, sender, listener, idBlockSize: options.idBlockSize ?? DEFAULT_ID_BLOCK_SIZE });
      opened();
      for (const payload of early) store.#remote.notice(payload);
      return store;
    } catch (error) {
      await listener.close();
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  get schema(): string {
    return this.#schema;
  }

  /** The store's connections, for core's tables beside the collections (the images); closed with the store. */
  get pool(): pg.Pool {
    return this.#pool;
  }

  /**
   * Whether memory holds every change the other processes committed: false from the moment the listening connection
   * drops until it is back and everything has been read again.
   */
  get coherent(): boolean {
    return this.#listener.coherent;
  }

  /**
   * Calls `listener` after each change another process made has been applied to memory: the ids of one collection
   * (inserted, updated or deleted: `get` says which), or the keys of named values. Returns the unsubscribe.
   */
  onRemoteChange(listener: (change: RemoteChange) => void): () => void {
    return this.#remote.onRemoteChange(listener);
  }

  /** Resolves when PostgreSQL answers a query now (health checks); rejects with STORE_ERROR saying why it does not. */
  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1').catch((error: unknown) => Promise.reject(databaseError('reach PostgreSQL', error)));
  }

  protected openCollection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): OpenedCollection<z.infer<S>> {
    type T = z.infer<S>;
    const { name } = definition;
    if (Buffer.byteLength(name) > 63) {
      throw new ComfyVastError('STORE_ERROR', `Collection name "${name}" is too long for a PostgreSQL table name (at most 63 bytes)`, { details: { collection: name } });
    }
    const parse = (raw: unknown): T => parseRecord(definition.schema as unknown as z.ZodType<T>, this.#schema, name, raw);
    const loaded = this.#tables.get(name);
    // Kept until validation passes, so that asking again reports the same error instead of an empty collection.
    const durable = new Map<number, DurableRecord<T>>();
    for (const row of loaded?.rows.values() ?? []) durable.set(row.id, { record: parse(row.data), version: row.version });
    this.#tables.delete(name);
    const table = new CollectionTable<T>({
      pool: this.#pool,
      schema: this.#schema,
      name,
      durable,
      exists: loaded !== undefined,
      parse,
      logger: this.#logger,
      channel: this.#channel,
      sender: this.#sender,
      conflicted: (ids) => this.#remote.conflicted(name, ids),
    });
    this.#opened.set(
      name,
      table.remoteTarget((id, record) => this.applyRemote(name, id, record)),
    );
    const ids = new IdBlocks({ pool: this.#pool, schema: this.#schema, name, floor: loaded?.nextId ?? 1, size: this.#idBlockSize, logger: this.#logger });
    this.#idBlocks.push(ids);
    ids.reserveAhead();
    return {
      records: [...durable.values()].map((d) => d.record),
      ids,
      backend: table,
      // The table's errors are already said in the operator's words.
      writeError: (error) => error,
    };
  }

  /** Writes the values of the changed keys (a key set to undefined is removed), and announces them, in one statement. */
  protected async writeValues(changed: ReadonlyMap<string, unknown>): Promise<void> {
    const written = [...changed];
    const kept = written.filter(([, value]) => value !== undefined);
    const removed = written.filter(([, value]) => value === undefined).map(([key]) => key);
    const values = tableName(this.#schema, VALUES_TABLE);
    await this.#pool.query(
      `WITH kept AS (
        INSERT INTO ${values} (key, value) SELECT * FROM unnest($1::text[], $2::json[])
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
      ), removed AS (
        DELETE FROM ${values} WHERE key = ANY($3::text[])
      ) SELECT count(*) FROM (SELECT pg_notify($4, notice) FROM unnest($5::text[]) AS notice) AS sent`,
      [kept.map(([key]) => key), kept.map(([, value]) => JSON.stringify(value)), removed, this.#channel, valueNotices(this.#sender, [...changed.keys()])],
    );
  }

  protected valuesError(error: unknown): unknown {
    return databaseError('write the named values to PostgreSQL', error);
  }

  protected override recordSettled(name: string, id: number): void {
    this.#remote.recordSettled(name, id);
  }

  protected override valueSettled(key: string): void {
    this.#remote.valueSettled(key);
  }

  protected async release(): Promise<void> {
    try {
      await this.#listener.close();
      await this.#remote.close();
      for (const ids of this.#idBlocks) await ids.close();
    } finally {
      await this.#pool.end();
    }
  }

  /** The rows kept for a collection not opened yet; one another process created since the load starts empty. */
  #loadedTarget(name: string): RemoteTarget {
    let table = this.#tables.get(name);
    if (!table) this.#tables.set(name, (table = { name, rows: new Map(), nextId: 1 }));
    const { rows } = table;
    return {
      version: (id) => rows.get(id)?.version,
      ids: () => rows.keys(),
      apply(id, row) {
        if (row) rows.set(id, row);
        else rows.delete(id);
        return true;
      },
    };
  }
}

/** A record read from the database, checked against its collection's schema; the first that fails is named. */
function parseRecord<T>(schema: z.ZodType<T>, dbSchema: string, collection: string, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  const id = (raw as { id?: unknown } | null)?.id;
  throw new ComfyVastError(
    'STORE_ERROR',
    `Table ${dbSchema}.${collection} holds record ${String(id)}, which does not match its schema (${issue?.message ?? 'invalid'}${where}). It was left untouched; correct or delete that row, or restore the database from a backup.`,
    { details: { collection, id } },
  );
}
