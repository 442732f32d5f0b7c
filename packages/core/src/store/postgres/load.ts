import type pg from 'pg';
import { databaseError, inTransaction, tableName, withClient } from './connection.js';
import { COLLECTIONS_TABLE, VALUES_TABLE } from './tables.js';

export interface LoadedRow {
  id: number;
  data: unknown;
  version: number;
}

export interface LoadedTable {
  name: string;
  rows: Map<number, LoadedRow>;
  /** Above every id handed out when the schema was read. */
  nextId: number;
}

export interface LoadedSchema {
  tables: Map<string, LoadedTable>;
  values: Record<string, unknown>;
}

/**
 * Reads every collection table and the named values of a schema, in one read-only transaction so that what is
 * loaded is one moment of the database even while other processes write.
 */
export async function loadSchema(pool: pg.Pool, schema: string): Promise<LoadedSchema> {
  try {
    return await withClient(pool, (client) =>
      inTransaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
        const names = await collectionTables(client, schema);
        const handedOut = await client.query<{ name: string; next_id: number }>(`SELECT name, next_id FROM ${tableName(schema, COLLECTIONS_TABLE)}`);
        const nextIds = new Map(handedOut.rows.map((row) => [row.name, row.next_id]));
        const tables = new Map<string, LoadedTable>();
        for (const name of names) {
          const { rows } = await client.query<LoadedRow>(`SELECT id, data, version FROM ${tableName(schema, name)} ORDER BY id`);
          tables.set(name, { name, rows: new Map(rows.map((row) => [row.id, row])), nextId: Math.max(nextIds.get(name) ?? 1, (rows.at(-1)?.id ?? 0) + 1) });
        }
        const values = await client.query<{ key: string; value: unknown }>(`SELECT key, value FROM ${tableName(schema, VALUES_TABLE)}`);
        return { tables, values: Object.fromEntries(values.rows.map((row) => [row.key, row.value])) };
      }),
    );
  } catch (error) {
    throw databaseError(`read the database schema "${schema}"`, error);
  }
}

/** The collection tables of a schema (the store's own tables start with `_`). */
export async function collectionTables(client: pg.ClientBase | pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND left(table_name, 1) <> '_' ORDER BY table_name`,
    [schema],
  );
  return rows.map((row) => row.name);
}
