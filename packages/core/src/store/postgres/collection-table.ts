import type pg from 'pg';
import { ComfyVastError } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';
import type { CollectionChange } from '../memory-collection.js';
import type { StoredRecord } from '../store.js';
import { recordNotices, type ChangedRecord } from './change-notices.js';
import { databaseError, errorCode, inTransaction, tableName, withClient } from './connection.js';
import type { LoadedRow } from './load.js';
import { lockKeys } from './migrations.js';
import type { RemoteTarget } from './remote-changes.js';
import { createCollectionTable } from './tables.js';

/** A record as the database holds it, with the version its next update or delete must find. */
export interface DurableRecord<T> {
  record: T;
  version: number;
}

export interface CollectionTableOptions<T> {
  pool: pg.Pool;
  schema: string;
  name: string;
  /** What the table holds, as loaded at open. */
  durable: Map<number, DurableRecord<T>>;
  /** Whether the table exists yet; a collection nobody wrote to gets its table with its first write. */
  exists: boolean;
  /** Checks a record read back after a conflict against the collection's schema. */
  parse(raw: unknown): T;
  logger: Logger;
  /** The NOTIFY channel the other processes listen to, and this process's name in its notices. */
  channel: string;
  sender: string;
  /** The records read again after a conflict: another process changed them, and memory learns it through the refusal. */
  conflicted(ids: number[]): void;
}

const UNIQUE_VIOLATION = '23505';
const INVALID_TEXT_REPRESENTATION = '22P02';
/** What the write statement's deliberate failed cast says when a version check failed (see #writeStatement). */
const CONFLICT_MARK = 'comfy-vast version conflict ';

function isVersionConflict(error: unknown): boolean {
  return errorCode(error) === INVALID_TEXT_REPRESENTATION && error instanceof Error && error.message.includes(CONFLICT_MARK);
}

/**
 * The database half of one collection: writes a batch of changes all or nothing, with the changes' net effect
 * per record (a record inserted and updated in one batch is one insert). Updates and deletes name the version they
 * were made on; when another process changed the record since, the batch is refused with CONFLICT, nothing of it
 * is written, and the records it touched are read again so that memory can be put back to what the database holds.
 * The same statement tells the other processes which records changed (NOTIFY, delivered when it commits).
 */
export class CollectionTable<T extends StoredRecord> {
  readonly #o: CollectionTableOptions<T>;
  readonly #table: string;
  /** Named, so that each connection plans it once instead of at every write. */
  readonly #statement: { name: string; text: string };
  #exists: boolean;

  constructor(options: CollectionTableOptions<T>) {
    this.#o = options;
    this.#table = tableName(options.schema, options.name);
    this.#statement = { name: `comfy-vast-write ${options.schema}.${options.name}`, text: this.#writeStatement() };
    this.#exists = options.exists;
  }

  /** The record as the database holds it (as far as this process knows). */
  get(id: number): T | undefined {
    return this.#o.durable.get(id)?.record;
  }

  async write(batch: CollectionChange<T>[]): Promise<void> {
    const { durable } = this.#o;
    const net = new Map<number, T | null>();
    for (const change of batch) net.set(change.op === 'put' ? change.record.id : change.id, change.op === 'put' ? change.record : null);
    const inserts: T[] = [];
    const updates: { record: T; version: number }[] = [];
    const deletes: { id: number; version: number }[] = [];
    for (const [id, record] of net) {
      const known = durable.get(id);
      if (record && known) updates.push({ record, version: known.version });
      else if (record) inserts.push(record);
      else if (known) deletes.push({ id, version: known.version });
    }
    const insertJson = inserts.map((r) => JSON.stringify(r));
    const updateJson = updates.map((u) => JSON.stringify(u.record));
    const changed = new Map<number, ChangedRecord>();
    inserts.forEach((record, n) => changed.set(record.id, { version: 1, json: insertJson[n] }));
    updates.forEach(({ record, version }, n) => changed.set(record.id, { version: version + 1, json: updateJson[n] }));
    for (const { id } of deletes) changed.set(id, { version: 0 });
    const values = [
      inserts.map((r) => r.id),
      insertJson,
      updates.map((u) => u.record.id),
      updateJson,
      updates.map((u) => u.version),
      deletes.map((d) => d.id),
      deletes.map((d) => d.version),
      this.#o.channel,
      recordNotices(this.#o.sender, this.#o.name, changed),
    ];

    try {
      await withClient(this.#o.pool, async (client) => {
        const write = async () => {
          if (!this.#exists) {
            // CREATE TABLE IF NOT EXISTS is not safe against itself: processes creating the same table take turns.
            await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', lockKeys(this.#o.schema));
            await client.query(createCollectionTable(this.#o.schema, this.#o.name));
          }
          await client.query({ ...this.#statement, values });
        };
        // The statement is all or nothing by itself; only the table's first write needs a transaction, for its lock.
        await (this.#exists ? write() : inTransaction(client, 'BEGIN', write));
      });
    } catch (error) {
      const conflict = isVersionConflict(error) || errorCode(error) === UNIQUE_VIOLATION ? this.#conflict(error) : null;
      if (!conflict) throw databaseError(`write collection ${this.#o.name} to PostgreSQL`, error);
      await this.#reread([...net.keys()]).then(
        (changed) => this.#o.conflicted(changed),
        (rereadError: unknown) => this.#o.logger.warn({ err: rereadError, collection: this.#o.name }, 'could not read records again after a conflict'),
      );
      throw conflict;
    }
    this.#exists = true;
    for (const record of inserts) durable.set(record.id, { record, version: 1 });
    for (const { record, version } of updates) durable.set(record.id, { record, version: version + 1 });
    for (const { id } of deletes) durable.delete(id);
  }

  /**
   * One statement for the whole batch, all or nothing without a transaction around it (one round trip): inserts,
   * version-checked updates and deletes, then either the notices of what changed or, when an update or delete found
   * another version, an error that undoes the whole statement (and its notices, which are sent only at commit).
   * Plain SQL has no RAISE: the error is a cast that cannot succeed, carrying a marker the catch recognises.
   */
  #writeStatement(): string {
    const t = this.#table;
    return `WITH inserted AS (
        INSERT INTO ${t} (id, data) SELECT * FROM unnest($1::bigint[], $2::json[]) RETURNING id
      ), updated AS (
        UPDATE ${t} SET data = u.data, version = ${t}.version + 1
        FROM unnest($3::bigint[], $4::json[], $5::integer[]) AS u (id, data, version)
        WHERE ${t}.id = u.id AND ${t}.version = u.version RETURNING ${t}.id
      ), deleted AS (
        DELETE FROM ${t} USING unnest($6::bigint[], $7::integer[]) AS d (id, version)
        WHERE ${t}.id = d.id AND ${t}.version = d.version RETURNING ${t}.id
      ), counts AS (
        SELECT (SELECT count(*) FROM updated)::integer AS updated, (SELECT count(*) FROM deleted)::integer AS deleted
      )
      SELECT CASE WHEN updated = cardinality($3::bigint[]) AND deleted = cardinality($6::bigint[])
        THEN (SELECT count(*) FROM (SELECT pg_notify($8, notice) FROM unnest($9::text[]) AS notice) AS sent)::integer
        ELSE ('${CONFLICT_MARK}' || updated || '/' || deleted)::integer
      END AS notified FROM counts`;
  }

  /** Where the changes other processes make to this collection are applied: `memory` puts a record into memory (false: a local write to it is under way). */
  remoteTarget(memory: (id: number, record: T | undefined) => boolean): RemoteTarget {
    const { durable } = this.#o;
    return {
      version: (id) => durable.get(id)?.version,
      ids: () => durable.keys(),
      apply: (id: number, row: LoadedRow | undefined) => {
        const record = row && this.#o.parse(row.data);
        if (!memory(id, record)) return false;
        if (row) {
          durable.set(id, { record: record!, version: row.version });
          this.#exists = true;
        } else durable.delete(id);
        return true;
      },
    };
  }

  #conflict(cause?: unknown): ComfyVastError {
    return new ComfyVastError('CONFLICT', `Another process changed collection ${this.#o.name} at the same time; nothing of this change was written. Try again.`, {
      details: { collection: this.#o.name },
      cause,
    });
  }

  /** Reads the records with these ids as the database holds them now; returns those another process changed. */
  async #reread(ids: number[]): Promise<number[]> {
    const { rows } = await this.#o.pool.query<{ id: number; data: unknown; version: number }>(`SELECT id, data, version FROM ${this.#table} WHERE id = ANY($1::bigint[])`, [ids]);
    const found = new Map(rows.map((row) => [row.id, row]));
    const changed: number[] = [];
    for (const id of ids) {
      const row = found.get(id);
      const known = this.#o.durable.get(id);
      if (row ? known?.version !== row.version : known !== undefined) changed.push(id);
      if (row) this.#o.durable.set(id, { record: this.#o.parse(row.data), version: row.version });
      else this.#o.durable.delete(id);
    }
    return changed;
  }
}
