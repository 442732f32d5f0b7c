import type { z } from 'zod';
import { closedError } from './errors.js';
import { checkCollectionName } from './layout.js';
import { MemoryCollection, type CollectionChange } from './memory-collection.js';
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
  /** The next id recorded by the backend (ids are never reused, even past the highest record's). */
  nextId: number;
  backend: CollectionBackend<T>;
  /** The error a failed write rejects with. */
  writeError(error: unknown): unknown;
}

interface OpenCollection {
  collection: Collection<StoredRecord>;
  queue: WriteQueue<CollectionChange<StoredRecord>>;
}

/**
 * What the embedded and the PostgreSQL store share: records and named values are served from memory; writes are
 * group-committed (WriteQueue) to the subclass's backend and resolve once durable; a write that fails puts memory
 * back as the backend last made it durable; and once closing has flushed, writes are refused.
 */
export abstract class WriteBehindStore implements Store {
  #values: Record<string, unknown>;
  #durableValues: Record<string, unknown>;
  #valueQueue: WriteQueue<string>;
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
    const collection: MemoryCollection<T> = new MemoryCollection<T>(definition.name, opened.records, (change) => queue.push(change), opened.nextId);
    return { collection, queue } as unknown as OpenCollection;
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
