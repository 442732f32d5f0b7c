import type { z } from 'zod';

/** Every stored record has a numeric id, unique within its collection and never reused. */
export interface StoredRecord {
  id: number;
}

export interface PageOptions<T> {
  /** Only records for which this returns true. */
  where?: (record: T) => boolean;
  /** Newest (highest id) first unless `order` is `asc`. */
  order?: 'asc' | 'desc';
  /** At most this many records (default 50). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: number | null;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the following page; null on the last page. */
  nextCursor: number | null;
}

/**
 * One collection of records. Reads are synchronous and served from memory; writes resolve once the
 * change is durable on disk, and calls are applied in the order they were made.
 */
export interface Collection<T extends StoredRecord> {
  readonly name: string;
  get(id: number): T | undefined;
  find(predicate: (record: T) => boolean): T | undefined;
  filter(predicate: (record: T) => boolean): T[];
  all(): T[];
  count(predicate?: (record: T) => boolean): number;
  page(options?: PageOptions<T>): Page<T>;
  insert(data: Omit<T, 'id'>): Promise<T>;
  /** Shallow-merges `patch` into the record; throws `NOT_FOUND` when there is none. */
  update(id: number, patch: Partial<Omit<T, 'id'>>): Promise<T>;
  delete(id: number): Promise<boolean>;
}

/** How a collection is declared: its name, the schema of one record and whether it grows without bound. */
export interface CollectionDefinition<S extends z.ZodType<StoredRecord>> {
  name: string;
  schema: S;
  /**
   * `log` for collections that grow large (generation history, scheduler history, saved workflows): kept as
   * append-only segments so a write costs the same with 100 or 100,000 records. `document` for small ones.
   */
  kind?: 'document' | 'log';
}

export function defineCollection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): CollectionDefinition<S> {
  return definition;
}

export interface Store {
  /** The collection for a definition; the same object every time for the same name. */
  collection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): Collection<z.infer<S>>;
  /** Small named values (installation key pair, schema version, ...). */
  getValue<T>(key: string): T | undefined;
  setValue<T>(key: string, value: T): Promise<void>;
  /** Resolves when every write made so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
