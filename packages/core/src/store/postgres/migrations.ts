import pg from 'pg';
import { ComfyVastError } from '../../errors/index.js';
import type { Clock, Logger } from '../../util/index.js';
import { databaseError, inTransaction, tableName, withClient } from './connection.js';
import { COLLECTIONS_TABLE, CORE_INDEXES, createCollectionTable, createIndex, IMAGES_TABLE, MIGRATIONS_TABLE, UNIQUE_INDEXES, VALUES_TABLE } from './tables.js';

/** One step of the database schema: the statements that turn version `version - 1` into `version`. */
export interface PostgresMigration {
  version: number;
  description: string;
  statements(schema: string): string[];
}

/** The database schema's history. Core owns this list: append a step whenever the tables or indexes change. */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'collection registry, named values, the collections of core and the indexes of their queries',
    statements: (schema) => [
      `CREATE TABLE ${tableName(schema, COLLECTIONS_TABLE)} (name text PRIMARY KEY, next_id bigint NOT NULL)`,
      `CREATE TABLE ${tableName(schema, VALUES_TABLE)} (key text PRIMARY KEY, value json NOT NULL)`,
      ...[...new Set(CORE_INDEXES.map((index) => index.collection))].map((name) => createCollectionTable(schema, name)),
      ...CORE_INDEXES.map((index) => createIndex(schema, index)),
    ],
  },
  {
    version: 2,
    description: 'unique usernames and token hashes across processes',
    statements: (schema) => [
      ...[...new Set(UNIQUE_INDEXES.map((index) => index.collection))].map((name) => createCollectionTable(schema, name)),
      ...UNIQUE_INDEXES.map((index) => createIndex(schema, index)),
    ],
  },
  {
    version: 3,
    description: 'generated images, for installations that keep them in the database',
    statements: (schema) => [
      `CREATE TABLE ${tableName(schema, IMAGES_TABLE)} (file text PRIMARY KEY, generation_id bigint NOT NULL, content_type text NOT NULL, size integer NOT NULL, bytes bytea NOT NULL, created_at timestamptz NOT NULL)`,
      // Images are compressed already: PostgreSQL's own compression would cost time and save nothing.
      `ALTER TABLE ${tableName(schema, IMAGES_TABLE)} ALTER COLUMN bytes SET STORAGE EXTERNAL`,
    ],
  },
];

/** The class of comfy-vast's advisory locks; the other key is the schema's hash, so schemas do not wait on each other. */
const LOCK_CLASS = 0x43565354;

/** `pg_advisory_lock(...)`'s two keys for a schema, as SQL arguments `$1, hashtext($2)`. */
export const lockKeys = (schema: string): [number, string] => [LOCK_CLASS, schema];

export interface MigrateOptions {
  pool: pg.Pool;
  schema: string;
  migrations: readonly PostgresMigration[];
  clock: Clock;
  logger: Logger;
}

/**
 * Brings the schema up to the newest migration. Every process runs this at start under a session advisory lock, so
 * of several starting at once one migrates and the others then find nothing to do. Each step runs in a
 * transaction with its row in `_migrations`: a step that fails leaves the schema as it was before it.
 */
export async function migrate({ pool, schema, migrations, clock, logger }: MigrateOptions): Promise<void> {
  const migrationsTable = tableName(schema, MIGRATIONS_TABLE);
  try {
    await withClient(pool, async (client) => {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', lockKeys(schema));
      // When anything fails the connection is closed (withClient), and the lock ends with its session.
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${migrationsTable} (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL)`);
      const { rows } = await client.query<{ version: number }>(`SELECT coalesce(max(version), 0) AS version FROM ${migrationsTable}`);
      const current = rows[0]!.version;
      const latest = migrations.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new ComfyVastError(
          'STORE_ERROR',
          `The database schema "${schema}" has version ${current}, written by a newer comfy-vast; this one knows versions up to ${latest}. Run the newer comfy-vast, or restore a backup made before the upgrade.`,
          { details: { schema, version: current, supported: latest } },
        );
      }
      for (const migration of migrations.filter((m) => m.version > current)) {
        await inTransaction(client, 'BEGIN', async () => {
          for (const statement of migration.statements(schema)) await client.query(statement);
          await client.query(`INSERT INTO ${migrationsTable} (version, description, applied_at) VALUES ($1, $2, $3)`, [migration.version, migration.description, new Date(clock.now())]);
        }).catch((error: unknown) => Promise.reject(databaseError(`migrate the database schema "${schema}" to version ${migration.version} (${migration.description})`, error)));
        logger.info({ schema, version: migration.version }, `database schema migrated: ${migration.description}`);
      }
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', lockKeys(schema));
    });
  } catch (error) {
    throw databaseError(`prepare the database schema "${schema}"`, error);
  }
}
