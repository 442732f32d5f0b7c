import type { z } from 'zod';
import { closedError } from './errors.js';
import { checkCollectionName } from './layout.js';
import { MemoryCollection, type CollectionChange, type IdSource } from './memory-collection.js';
import type { Collection, CollectionDefinition, Store, StoredRecord } from './store.js';
import { WriteQueue } from './write-queue.js';

/** Where a collection's records are durable: files or a database table. */
export interface CollectionBackend<T extends StoredRecord> {
  /** Makes one batch of changes durable. */
  write(batch: CollectionChange<T>[]): Promise<void>;
  /** A record as last made durable; undefined when it was never written or was deleted. */
  get(id: number): T | undefined;
}

/** A collection as its backend opened it: the records it holds and where they are written. */
export interface OpenedCollection<T extends StoredRecord> {
  records: Iterable<T>;
  /** Where new ids come from when the backend hands them out; otherwise the collection counts them from `nextId`. */
  ids?: IdSource;
  /** The next id recorded by the backend (ids are never reused, even past the highest record's); default 1. */
  nextId?: number;
  backend: CollectionBackend<T>;
  /** The error a failed write rejects with. */
  writeError(error: unknown): unknown;
}

interface OpenCollection {
  collection: MemoryCollection<StoredRecord>;
  queue: WriteQueue<CollectionChange<StoredRecord>>;
  /** How many local changes to each record are queued or being written. */
  pending: Map<number, number>;
}

/**
 * What the embedded and the PostgreSQL store share: records and named values are served from memory; writes are
 * group-committed (WriteQueue) to the subclass's backend and resolve once durable; a write that fails puts memory
 * back as the backend last made it durable; and once closing has flushed, writes are refused. A subclass whose
 * backend other processes write too puts their changes into memory with `applyRemote` / `applyRemoteValue`.
 */
export abstract class WriteBehindStore implements Store {
  #values: Record<string, unknown>;
  #durableValues: Record<string, unknown>;
  #valueQueue: WriteQueue<string>;
  #pendingValues = new Map<string, number>();
  #collections = new Map<string, OpenCollection>();
  #closed = false;
  #closing: Promise<void> | null = null;

  protected constructor(values: Record<string, unknown>) {
    this.#durableValues = { ...values };
    this.#values = { ...values };
    this.#valueQueue = new WriteQueue(
      (keys) => this.#writeValues(keys),
      (keys, error) => {
        for (const key of keys) {
          if (key in this.#durableValues) this.#values[key] = this.#durableValues[key];
          else delete this.#values[key];
        }
        return this.valuesError(error);
      },
    );
  }

  /**
   * Opens the durable side of a collection, validating its records; called once per name. `nextId` reads the
   * in-memory collection's next id, for backends that record it (it is called on writes only).
   */
  protected abstract openCollection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>, nextId: () => number): OpenedCollection<z.infer<S>>;

  /** Makes the named values durable: `changed` holds the keys written by this batch (undefined: removed), `all` every value. */
  protected abstract writeValues(changed: ReadonlyMap<string, unknown>, all: Readonly<Record<string, unknown>>): Promise<void>;

  /** The error a failed write of the named values rejects with. */
  protected abstract valuesError(error: unknown): unknown;

  /** Called once, after the last write: closes the backend's files or connections. */
  protected abstract release(): Promise<void>;

  /**
   * Puts a record as another process left it (undefined: deleted) into memory, unless a local change to it is
   * queued or being written: that change was made on what memory held, and its write must meet the version it
   * was made on (and be refused if that is gone), so the record is left alone and false returned; `recordSettled`
   * tells when the local changes are done. A collection not opened yet is the subclass's to keep.
   */
  protected applyRemote(name: string, id: number, record: StoredRecord | undefined): boolean {
    const open = this.#collections.get(name);
    if (!open) return true;
    if (open.pending.has(id)) return false;
    open.collection.restore(id, record);
    return true;
  }

  /** A named value as another process left it; like `applyRemote`, refused while a local write of the key is under way. */
  protected applyRemoteValue(key: string, value: unknown): boolean {
    if (this.#pendingValues.has(key)) return false;
    if (value === undefined) {
      delete this.#values[key];
      delete this.#durableValues[key];
    } else {
      this.#values[key] = value;
      this.#durableValues[key] = value;
    }
    return true;
  }

  /** The keys of the named values held. */
  protected valueKeys(): string[] {
    return Object.keys(this.#values);
  }

  /** The last local change queued for a record has been written or refused. */
  protected recordSettled(_name: string, _id: number): void {}

  /** The last local write queued for a named value has been made or refused. */
  protected valueSettled(_key: string): void {}

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
    await tracked(this.#pendingValues, key, this.#valueQueue.push(key), () => this.valueSettled(key));
  }

  async flush(): Promise<void> {
    await Promise.all([this.#valueQueue.idle(), ...[...this.#collections.values()].map((c) => c.queue.idle())]);
  }

  /** Flushes, then releases the backend. Writes made after this is called are rejected. */
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
      await this.release();
    }
  }

  #open<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): OpenCollection {
    type T = z.infer<S>;
    checkCollectionName(definition.name);
    // `nextId` runs only after `collection` is assigned: on the first write.
    const opened = this.openCollection(definition, () => collection.nextId);
    const { backend } = opened;
    const queue: WriteQueue<CollectionChange<T>> = new WriteQueue<CollectionChange<T>>(
      (batch): Promise<void> => {
        if (this.#closed) throw closedError();
        return backend.write(batch);
      },
      (changes, error): unknown => {
        for (const change of changes) {
          const id = change.op === 'put' ? change.record.id : change.id;
          collection.restore(id, backend.get(id));
        }
        return opened.writeError(error);
      },
    );
    const pending = new Map<number, number>();
    const persist = (change: CollectionChange<T>): Promise<void> => {
      const id = change.op === 'put' ? change.record.id : change.id;
      return tracked(pending, id, queue.push(change), () => this.recordSettled(definition.name, id));
    };
    const collection: MemoryCollection<T> = new MemoryCollection<T>(definition.name, opened.records, persist, opened.ids ?? opened.nextId ?? 1);
    return { collection, queue, pending } as unknown as OpenCollection;
  }

  async #writeValues(keys: string[]): Promise<void> {
    if (this.#closed) throw closedError();
    // Taken before the write: values set while it runs belong to the next batch.
    const changed = new Map([...new Set(keys)].map((key) => [key, this.#values[key]] as const));
    await this.writeValues(changed, this.#values);
    for (const [key, value] of changed) {
      if (value === undefined) delete this.#durableValues[key];
      else this.#durableValues[key] = value;
    }
  }
}

/** Counts `write` under `key` in `pending` until it settles; `settled` runs when the key's last write has. */
async function tracked<K>(pending: Map<K, number>, key: K, write: Promise<void>, settled: () => void): Promise<void> {
  pending.set(key, (pending.get(key) ?? 0) + 1);
  try {
    await write;
  } finally {
    const left = pending.get(key)! - 1;
    if (left > 0) pending.set(key, left);
    else {
      pending.delete(key);
      settled();
    }
  }
}
