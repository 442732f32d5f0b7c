import type pg from 'pg';
import type { Clock, Logger } from '../../util/index.js';
import { ChangeNotice } from './change-notices.js';
import { errorCode, tableName } from './connection.js';
import { collectionTables, type LoadedRow } from './load.js';
import { VALUES_TABLE } from './tables.js';

/** What another process changed, as applied to this one's memory. */
export type RemoteChange = { kind: 'records'; collection: string; ids: number[] } | { kind: 'values'; keys: string[] };

/** Where the changes of one collection are applied: the opened collection, or the rows kept for it until it is opened. */
export interface RemoteTarget {
  /** The version held of a record; undefined when none is held. */
  version(id: number): number | undefined;
  ids(): Iterable<number>;
  /** Sets a record as the database holds it (undefined: deleted); false when a local write to it is under way. */
  apply(id: number, row: LoadedRow | undefined): boolean;
}

export interface RemoteChangesOptions {
  pool: pg.Pool;
  schema: string;
  /** This process's name in the notices: its own are ignored. */
  sender: string;
  clock: Clock;
  logger: Logger;
  /** The target of a collection's changes, created when the collection is new to this process. */
  target(collection: string): RemoteTarget;
  /** The collections this process holds. */
  collections(): Iterable<string>;
  /** The named values this process holds. */
  valueKeys(): Iterable<string>;
  value(key: string): unknown;
  /** Sets a named value as the database holds it (undefined: removed); false when a local write of it is under way. */
  applyValue(key: string, value: unknown): boolean;
}

/** A record noted as changed: the version to reach, and the record at that version when its notice carried it. */
interface Noted {
  version: number;
  data?: unknown;
}

/** A record's version in a notice when deleted; a record noted after a local write settles has no version yet. */
const DELETED = 0;
const UNKNOWN = Number.POSITIVE_INFINITY;
/** After a failed read, the changes waiting are read again after this. */
const RETRY_MS = 1000;

/**
 * Applies the other processes' changes to memory. Notices are merged while a batch is being applied, so that a
 * burst costs at most one read per collection: deletions are applied at once (ids are never reused), other records
 * when the notice's version is newer than the one held, from the notice when it carried them, else read. A record (or named value) with a local write under way is
 * left alone until that write settles, then read again: its write must meet the version it was made on.
 */
export class RemoteChanges {
  readonly #o: RemoteChangesOptions;
  /** How this process's own notices begin (change-notices.ts writes the sender first): skipped without parsing. */
  readonly #own: string;
  #records = new Map<string, Map<number, Noted>>();
  #keys = new Set<string>();
  #deferredRecords = new Map<string, Set<number>>();
  #deferredKeys = new Set<string>();
  /** Records another process changed that memory learnt of through a refused write: reported once it settles. */
  #conflicted = new Map<string, Set<number>>();
  #draining: Promise<void> | null = null;
  #retrying = false;
  #closed = false;
  #listeners = new Set<(change: RemoteChange) => void>();

  constructor(options: RemoteChangesOptions) {
    this.#o = options;
    this.#own = `{"s":${JSON.stringify(options.sender)},`;
  }

  /** Calls `listener` with every change of another process once it is in memory; returns the unsubscribe. */
  onRemoteChange(listener: (change: RemoteChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One NOTIFY payload. */
  notice(payload: string): void {
    if (payload.startsWith(this.#own)) return;
    let notice: ChangeNotice;
    try {
      notice = ChangeNotice.parse(JSON.parse(payload));
    } catch {
      this.#o.logger.warn({ payload: payload.slice(0, 200) }, 'ignored a notice on the store\u2019s channel that is not a change notice');
      return;
    }
    if (notice.s === this.#o.sender) return;
    if ('k' in notice) for (const key of notice.k) this.#keys.add(key);
    else notice.i.forEach((id, n) => this.#note(notice.c, id, notice.v[n]!, notice.d?.[n]));
    this.#drain();
  }

  /** These records were read again after a write of them was refused: they are reported once that write settles. */
  conflicted(collection: string, ids: number[]): void {
    for (const id of ids) {
      setOf(this.#conflicted, collection).add(id);
      setOf(this.#deferredRecords, collection).add(id);
    }
  }

  /** A local write to this record settled: a change deferred for it is read now. */
  recordSettled(collection: string, id: number): void {
    if (!this.#deferredRecords.get(collection)?.delete(id)) return;
    this.#note(collection, id, UNKNOWN);
    this.#drain();
  }

  valueSettled(key: string): void {
    if (!this.#deferredKeys.delete(key)) return;
    this.#keys.add(key);
    this.#drain();
  }

  /** Compares everything held with the database and applies the differences: after notices may have been missed. */
  async catchUp(): Promise<void> {
    await this.idle();
    const names = new Set([...this.#o.collections(), ...(await collectionTables(this.#o.pool, this.#o.schema))]);
    for (const name of names) await this.#catchUpCollection(name);
    await this.#catchUpValues();
  }

  /** Resolves once the changes noted so far are applied (or failed to be read). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  #note(collection: string, id: number, version: number, data?: unknown): void {
    let ids = this.#records.get(collection);
    if (!ids) this.#records.set(collection, (ids = new Map()));
    const noted = ids.get(id);
    // A deletion is final; otherwise the newest version noted is the one to reach, with its data when a notice had it.
    if (noted?.version === DELETED || version === DELETED) ids.set(id, { version: DELETED });
    else if (!noted || version > noted.version) ids.set(id, { version, data });
  }

  #drain(): void {
    if (this.#draining || this.#retrying || this.#closed) return;
    this.#draining = (async () => {
      while (!this.#closed && (this.#records.size > 0 || this.#keys.size > 0)) {
        const records = this.#records;
        const keys = this.#keys;
        this.#records = new Map();
        this.#keys = new Set();
        try {
          for (const [collection, ids] of records) await this.#applyRecords(collection, ids);
          if (keys.size > 0) await this.#applyValues([...keys]);
        } catch (error) {
          // What was not applied is noted again (newer notices merge with it) and read after a pause.
          for (const [collection, ids] of records) for (const [id, { version, data }] of ids) this.#note(collection, id, version, data);
          for (const key of keys) this.#keys.add(key);
          this.#o.logger.warn({ err: { message: (error as Error).message, code: errorCode(error) } }, 'could not read the changes of other processes; retrying');
          this.#retrying = true;
          this.#o.clock.setTimeout(() => {
            this.#retrying = false;
            this.#drain();
          }, RETRY_MS);
          break;
        }
      }
    })().finally(() => {
      this.#draining = null;
      // Noted between the loop's last check and now.
      if (this.#records.size > 0 || this.#keys.size > 0) this.#drain();
    });
  }

  async #applyRecords(collection: string, noted: Map<number, Noted>): Promise<void> {
    const held = this.#o.target(collection);
    const gone: number[] = [];
    const carried: LoadedRow[] = [];
    const toRead: number[] = [];
    for (const [id, { version, data }] of noted) {
      if (version === DELETED) gone.push(id);
      else if ((held.version(id) ?? 0) >= version) continue;
      else if (data !== undefined) carried.push({ id, data, version });
      else toRead.push(id);
    }
    const rows = toRead.length > 0 ? await this.#read(collection, toRead) : new Map<number, LoadedRow>();
    // Read again after the await: the collection may have been opened meanwhile.
    const target = this.#o.target(collection);
    const applied: number[] = [];
    const apply = (id: number, row: LoadedRow | undefined) => {
      const known = target.version(id);
      const newer = row ? known === undefined || known < row.version : known !== undefined;
      if (newer && !this.#applyOne(collection, target, id, row)) return;
      if (newer || this.#conflicted.get(collection)?.has(id)) {
        this.#conflicted.get(collection)?.delete(id);
        applied.push(id);
      }
    };
    for (const id of gone) apply(id, undefined);
    for (const row of carried) apply(row.id, row);
    for (const id of toRead) apply(id, rows.get(id));
    this.#emit({ kind: 'records', collection, ids: applied.sort((a, b) => a - b) });
  }

  #applyOne(collection: string, target: RemoteTarget, id: number, row: LoadedRow | undefined): boolean {
    try {
      if (target.apply(id, row)) return true;
      setOf(this.#deferredRecords, collection).add(id);
    } catch (error) {
      this.#o.logger.error({ err: error, collection, id }, 'a record another process wrote does not match its schema here; it was not applied');
    }
    return false;
  }

  /** The rows with these ids as the database holds them now (absent: deleted, or the table does not exist yet). */
  async #read(collection: string, ids: number[]): Promise<Map<number, LoadedRow>> {
    try {
      const { rows } = await this.#o.pool.query<LoadedRow>(`SELECT id, data, version FROM ${tableName(this.#o.schema, collection)} WHERE id = ANY($1::bigint[])`, [ids]);
      return new Map(rows.map((row) => [row.id, row]));
    } catch (error) {
      if (errorCode(error) === UNDEFINED_TABLE) return new Map();
      throw error;
    }
  }

  async #applyValues(keys: string[]): Promise<void> {
    const { rows } = await this.#o.pool.query<{ key: string; value: unknown }>(`SELECT key, value FROM ${tableName(this.#o.schema, VALUES_TABLE)} WHERE key = ANY($1::text[])`, [keys]);
    const found = new Map(rows.map((row) => [row.key, row.value]));
    this.#emit({ kind: 'values', keys: keys.filter((key) => this.#applyValue(key, found.get(key))) });
  }

  #applyValue(key: string, value: unknown): boolean {
    if (this.#o.applyValue(key, value)) return true;
    this.#deferredKeys.add(key);
    return false;
  }

  async #catchUpCollection(collection: string): Promise<void> {
    let versions: Map<number, number>;
    try {
      const { rows } = await this.#o.pool.query<{ id: number; version: number }>(`SELECT id, version FROM ${tableName(this.#o.schema, collection)}`);
      versions = new Map(rows.map((row) => [row.id, row.version]));
    } catch (error) {
      if (errorCode(error) !== UNDEFINED_TABLE) throw error;
      versions = new Map();
    }
    const held = this.#o.target(collection);
    const noted = new Map<number, Noted>();
    for (const id of held.ids()) if (!versions.has(id)) noted.set(id, { version: DELETED });
    for (const [id, version] of versions) if ((held.version(id) ?? 0) < version) noted.set(id, { version });
    if (noted.size > 0) await this.#applyRecords(collection, noted);
  }

  async #catchUpValues(): Promise<void> {
    const { rows } = await this.#o.pool.query<{ key: string; value: unknown }>(`SELECT key, value FROM ${tableName(this.#o.schema, VALUES_TABLE)}`);
    const found = new Map(rows.map((row) => [row.key, row.value]));
    const changed: string[] = [];
    for (const key of new Set([...this.#o.valueKeys(), ...found.keys()])) {
      const value = found.get(key);
      if (JSON.stringify(value) === JSON.stringify(this.#o.value(key))) continue;
      if (this.#applyValue(key, value)) changed.push(key);
    }
    this.#emit({ kind: 'values', keys: changed });
  }

  #emit(change: RemoteChange): void {
    if ((change.kind === 'records' ? change.ids : change.keys).length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#o.logger.error({ err: error }, 'a listener of remote store changes failed');
      }
    }
  }
}

const UNDEFINED_TABLE = '42P01';

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}
