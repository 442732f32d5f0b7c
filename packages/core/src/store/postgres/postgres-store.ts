import type pg from 'pg';
import type { z } from 'zod';
import { ComfyVastError } from '../../errors/index.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../../util/index.js';
import { checkCollectionName } from '../layout.js';
import { MemoryCollection, type CollectionChange } from '../memory-collection.js';
import type { Collection, CollectionDefinition, Store, StoredRecord } from '../store.js';
import { WriteQueue } from '../write-queue.js';
import { CollectionTable, type DurableRecord } from './collection-table.js';
import { checkSchemaName, closedError, databaseError, openPool, tableName } from './connection.js';
import { loadSchema, type LoadedTable } from './load.js';
import { migrate, postgresMigrations, type PostgresMigration } from './migrations.js';
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
}

interface OpenCollection {
  collection: Collection<StoredRecord>;
  queue: WriteQueue<CollectionChange<StoredRecord>>;
}

const DEFAULT_SCHEMA = 'comfy_vast';
const DEFAULT_POOL_SIZE = 5;

/**
 * The store on PostgreSQL: a table per collection. Like the embedded store, everything is read into memory on
 * open and reads are served from memory; each batch of writes is one transaction and resolves once committed, and
 * a write that fails rejects after putting memory back as the database holds it. See docs/storage.md.
 */
export class PostgresStore implements Store {
  #pool: pg.Pool;
  #schema: string;
  #logger: Logger;
  #tables: Map<string, LoadedTable>;
  #values: Record<string, unknown>;
  #durableValues: Record<string, unknown>;
  #valueQueue: WriteQueue<string>;
  #collections = new Map<string, OpenCollection>();
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(pool: pg.Pool, schema: string, logger: Logger, tables: Map<string, LoadedTable>, values: Record<string, unknown>) {
    this.#pool = pool;
    this.#schema = schema;
    this.#logger = logger;
    this.#tables = tables;
    this.#durableValues = values;
    this.#values = { ...values };
    this.#valueQueue = new WriteQueue(
      (keys) => this.#writeValues(keys),
      (keys, error) => {
        for (const key of keys) {
          if (key in this.#durableValues) this.#values[key] = this.#durableValues[key];
          else delete this.#values[key];
        }
        return databaseError('write the named values to PostgreSQL', error);
      },
    );
  }

  /** Connects, migrates the schema (under an advisory lock) and reads every collection. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    checkSchemaName(schema);
    const logger = (options.logger ?? silentLogger).child({ component: 'store' });
    const pool = openPool(options.url, options.poolSize ?? DEFAULT_POOL_SIZE, logger);
    try {
      await migrate({ pool, schema, migrations: options.migrations ?? postgresMigrations, clock: options.clock ?? systemClock, logger });
      const { tables, values } = await loadSchema(pool, schema);
      return new PostgresStore(pool, schema, logger, tables, values);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  get schema(): string {
    return this.#schema;
  }

  /** Validates the collection's records against its schema the first time it is asked for. */
  collection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): Collection<z.infer<S>> {
    let open = this.#collections.get(definition.name);
    if (!open) {
      open = this.#open(definition);
      this.#collections.set(definition.name, open);
    }
    return open.collection as unknown as Collection<z.infer<S>>;
  }

  getValue<T>(key: string): T | undefined {
    return this.#values[key] as T | undefined;
  }

  async setValue<T>(key: string, value: T): Promise<void> {
    this.#values[key] = value;
    await this.#valueQueue.push(key);
  }

  async flush(): Promise<void> {
    await Promise.all([this.#valueQueue.idle(), ...[...this.#collections.values()].map((c) => c.queue.idle())]);
  }

  /** Flushes, then closes the connections. Writes made after this is called are rejected. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      await this.flush();
      this.#closed = true;
      await this.flush();
    } finally {
      await this.#pool.end();
    }
  }

  #open<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): OpenCollection {
    type T = z.infer<S>;
    const { name } = definition;
    checkCollectionName(name);
    if (Buffer.byteLength(name) > 63) {
      throw new ComfyVastError('STORE_ERROR', `Collection name "${name}" is too long for a PostgreSQL table name (at most 63 bytes)`, { details: { collection: name } });
    }
    const parse = (raw: unknown): T => parseRecord(definition.schema as unknown as z.ZodType<T>, this.#schema, name, raw);
    const loaded = this.#tables.get(name);
    // Kept until validation passes, so that asking again reports the same error instead of an empty collection.
    const durable = new Map<number, DurableRecord<T>>();
    for (const row of loaded?.rows ?? []) durable.set(row.id, { record: parse(row.data), version: row.version });
    this.#tables.delete(name);
    const table = new CollectionTable<T>({ pool: this.#pool, schema: this.#schema, name, durable, exists: loaded !== undefined, parse, logger: this.#logger });
    const queue: WriteQueue<CollectionChange<T>> = new WriteQueue<CollectionChange<T>>(
      (batch): Promise<void> => {
        if (this.#closed) throw closedError();
        return table.write(batch);
      },
      (changes, error): unknown => {
        for (const change of changes) {
          const id = change.op === 'put' ? change.record.id : change.id;
          collection.restore(id, table.get(id));
        }
        return error;
      },
    );
    const collection: MemoryCollection<T> = new MemoryCollection<T>(
      name,
      [...durable.values()].map((d) => d.record),
      (change) => queue.push(change),
      loaded?.nextId ?? 1,
    );
    return { collection, queue } as unknown as OpenCollection;
  }

  /** Writes the current value of each key (a key set to undefined is removed), in one statement. */
  async #writeValues(keys: string[]): Promise<void> {
    if (this.#closed) throw closedError();
    const written = [...new Set(keys)].map((key) => [key, this.#values[key]] as const);
    const kept = written.filter(([, value]) => value !== undefined);
    const removed = written.filter(([, value]) => value === undefined).map(([key]) => key);
    const values = tableName(this.#schema, VALUES_TABLE);
    await this.#pool.query(
      `WITH kept AS (
        INSERT INTO ${values} (key, value) SELECT * FROM unnest($1::text[], $2::json[])
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
      ) DELETE FROM ${values} WHERE key = ANY($3::text[])`,
      [kept.map(([key]) => key), kept.map(([, value]) => JSON.stringify(value)), removed],
    );
    for (const [key, value] of written) {
      if (value === undefined) delete this.#durableValues[key];
      else this.#durableValues[key] = value;
    }
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
