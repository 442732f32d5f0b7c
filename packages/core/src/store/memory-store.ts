import type { z } from 'zod';
import { MemoryCollection } from './memory-collection.js';
import type { Collection, CollectionDefinition, Store, StoredRecord } from './store.js';

/** A store that keeps everything in memory: for tests and for throwaway runs. */
export class MemoryStore implements Store {
  #collections = new Map<string, MemoryCollection<StoredRecord>>();
  #values = new Map<string, unknown>();

  collection<S extends z.ZodType<StoredRecord>>(definition: CollectionDefinition<S>): Collection<z.infer<S>> {
    let c = this.#collections.get(definition.name);
    if (!c) {
      c = new MemoryCollection(definition.name);
      this.#collections.set(definition.name, c);
    }
    return c as unknown as Collection<z.infer<S>>;
  }

  getValue<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  async setValue<T>(key: string, value: T): Promise<void> {
    this.#values.set(key, value);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
