import type pg from 'pg';
import type { z } from 'zod';
import { ComfyVastError } from '../../errors/index.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../../util/index.js';
import type { CollectionDefinition, StoredRecord } from '../store.js';
import { WriteBehindStore, type OpenedCollection } from '../write-behind-store.js';
import { CollectionTable, type DurableRecord } from './collection-table.js';
import { checkSchemaName, databaseError, openPool, tableName } from './connection.js';
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

const DEFAULT_SCHEMA = 'comfy_vast';
const DEFAULT_POOL_SIZE = 5;

/**
 * The store on PostgreSQL: a table per collection. Like the embedded store, everything is read into memory on
 * open and reads are served from memory; each batch of writes is one transaction and resolves once committed, and
 * a write that fails rejects after putting memory back as the database holds it. See docs/storage.md.
 */
export class PostgresStore extends WriteBehindStore {
  #pool: pg.Pool;
  #schema: string;
  #logger: Logger;
  #tables: Map<string, LoadedTable>;

  private constructor(pool: pg.Pool, schema: string, logger: Logger, tables: Map<string, LoadedTable>, values: Record<string, unknown>) {
    super(values);
    this.#pool = pool;
    this.#schema = schema;
    this.#logger = logger;
    this.#tables = tables;
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
    for (const row of loaded?.rows ?? []) durable.set(row.id, { record: parse(row.data), version: row.version });
    this.#tables.delete(name);
    const table = new CollectionTable<T>({ pool: this.#pool, schema: this.#schema, name, durable, exists: loaded !== undefined, parse, logger: this.#logger });
    return {
      records: [...durable.values()].map((d) => d.record),
      nextId: loaded?.nextId ?? 1,
      backend: table,
      // The table's errors are already said in the operator's words.
      writeError: (error) => error,
    };
  }

  /** Writes the values of the changed keys (a key set to undefined is removed), in one statement. */
  protected async writeValues(changed: ReadonlyMap<string, unknown>): Promise<void> {
    const written = [...changed];
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
  }

  protected valuesError(error: unknown): unknown {
    return databaseError('write the named values to PostgreSQL', error);
  }

  protected release(): Promise<void> {
    return this.#pool.end();
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
