import type { RawRecord } from './files.js';

/** Everything a data directory holds, as plain JSON: what a migration reads and returns. */
export interface StoredData {
  values: Record<string, unknown>;
  collections: Record<string, { nextId: number; records: RawRecord[] }>;
}

/**
 * One step of the schema: turns data of version `version - 1` into data of `version`. Migrations run in order
 * on open, after the previous files are backed up; they may change `data` in place or return a new object.
 */
export interface Migration {
  version: number;
  description: string;
  up(data: StoredData): StoredData | void;
}

/** The schema's history. Core owns this list: append a migration when the shape of stored data changes. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'one file per collection, growing collections as JSONL segments, schema version in meta.json (was one db.json)',
    // The records keep their shape; the new layout is written by the store after the last migration.
    up: (data) => data,
  },
];
