import { tableName } from './connection.js';

/**
 * Every collection is a table of its own: the record as written (`json` keeps its text, so key order and every
 * string JSON allows survive, where `jsonb` would reorder keys and refuse `\u0000`), and a version that each
 * update and delete checks, so that two processes cannot overwrite each other's change unseen.
 */
export function createCollectionTable(schema: string, name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${tableName(schema, name)} (id bigint PRIMARY KEY, data json NOT NULL, version integer NOT NULL DEFAULT 1)`;
}

/** The ids handed out per collection, so that an id is never given again, even the deleted highest one. */
export const COLLECTIONS_TABLE = '_collections';
/** The store's named values (`getValue` / `setValue`). */
export const VALUES_TABLE = '_values';
/** The migrations applied, one row each. */
export const MIGRATIONS_TABLE = '_migrations';
/** Generated images, when the database keeps them (DatabaseImageStore): not a collection, never read into memory. */
export const IMAGES_TABLE = '_images';

/** A number field of the record, as an index expression (and the same text in a query, for the planner to use it). */
export const numberField = (field: string): string => `((data->>'${field}')::bigint)`;

interface CollectionIndex {
  collection: string;
  name: string;
  columns: string;
  where?: string;
  /** Two records with the same value are refused (a write that would make them fails with CONFLICT). */
  unique?: boolean;
}

/** The indexes of the queries core makes, by collection. */
export const CORE_INDEXES: readonly CollectionIndex[] = [
  // A user's history on one server, newest first (the history pages), and a server's latest generations.
  { collection: 'generations', name: 'generations_history', columns: `${numberField('userId')}, ${numberField('serverId')}, id` },
  { collection: 'generations', name: 'generations_by_server', columns: `${numberField('serverId')}, id` },
  // The generations still queued or running: what a start resumes and what counts against a user's queue.
  { collection: 'generations', name: 'generations_active', columns: `${numberField('userId')}, id`, where: `(data->>'status') IN ('queued', 'executing')` },
  { collection: 'scheduler_history', name: 'scheduler_history_by_server', columns: `${numberField('serverId')}, id` },
  // Next actions are computed from the schedule and its time zone's rules, never stored: the scheduler plans from
  // the schedules that have an automatic action at all.
  {
    collection: 'schedules',
    name: 'schedules_automatic',
    columns: numberField('serverId'),
    where: `(data->>'autoStart') = 'true' OR (data->>'autoStop') = 'true' OR (data->>'idleStopMinutes') IS NOT NULL`,
  },
  { collection: 'server_cost_events', name: 'server_cost_events_by_server', columns: `${numberField('serverId')}, id` },
  { collection: 'tokens', name: 'tokens_by_user', columns: numberField('userId') },
];

/**
 * What must stay unique when several processes write at once: each checks in its own memory first, which cannot see
 * what another process is inserting at the same moment (two replicas starting on an empty database each creating
 * the admin, or two creating one username).
 */
export const UNIQUE_INDEXES: readonly CollectionIndex[] = [
  // Usernames are compared without case, as UserService compares them.
  { collection: 'users', name: 'users_username', columns: "lower(data->>'username')", unique: true },
  { collection: 'tokens', name: 'tokens_hash', columns: "(data->>'hash')", unique: true },
];

export function createIndex(schema: string, index: CollectionIndex): string {
  const where = index.where ? ` WHERE ${index.where}` : '';
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS "${index.name}" ON ${tableName(schema, index.collection)} (${index.columns})${where}`;
}
