import { ComfyVastError } from '../errors/index.js';
import type { Collection, Page, PageOptions, StoredRecord } from './store.js';

/**
 * The in-memory half of a collection: records kept in id order, so pages and lookups never sort.
 * `persist` is called with every change, in order, and its promise is the write's.
 */
export class MemoryCollection<T extends StoredRecord> implements Collection<T> {
  readonly name: string;
  #records = new Map<number, T>();
  #nextId = 1;
  #persist: (change: CollectionChange<T>) => Promise<void>;

  constructor(name: string, records: Iterable<T> = [], persist: (change: CollectionChange<T>) => Promise<void> = async () => {}, nextId = 1) {
    this.name = name;
    const sorted = [...records].sort((a, b) => a.id - b.id);
    for (const r of sorted) this.#records.set(r.id, r);
    this.#nextId = Math.max(nextId, (sorted.at(-1)?.id ?? 0) + 1);
    this.#persist = persist;
  }

  get nextId(): number {
    return this.#nextId;
  }

  get(id: number): T | undefined {
    return this.#records.get(id);
  }

  find(predicate: (record: T) => boolean): T | undefined {
    for (const r of this.#records.values()) if (predicate(r)) return r;
    return undefined;
  }

  filter(predicate: (record: T) => boolean): T[] {
    const out: T[] = [];
    for (const r of this.#records.values()) if (predicate(r)) out.push(r);
    return out;
  }

  all(): T[] {
    return [...this.#records.values()];
  }

  count(predicate?: (record: T) => boolean): number {
    if (!predicate) return this.#records.size;
    let n = 0;
    for (const r of this.#records.values()) if (predicate(r)) n++;
    return n;
  }

  page(options: PageOptions<T> = {}): Page<T> {
    const limit = Math.max(1, options.limit ?? 50);
    const desc = (options.order ?? 'desc') === 'desc';
    const cursor = options.cursor ?? null;
    const values = [...this.#records.values()];
    const items: T[] = [];
    const step = desc ? -1 : 1;
    for (let i = desc ? values.length - 1 : 0; i >= 0 && i < values.length; i += step) {
      const r = values[i]!;
      if (cursor !== null && (desc ? r.id >= cursor : r.id <= cursor)) continue;
      if (options.where && !options.where(r)) continue;
      if (items.length === limit) return { items, nextCursor: items.at(-1)!.id };
      items.push(r);
    }
    return { items, nextCursor: null };
  }

  async insert(data: Omit<T, 'id'>): Promise<T> {
    const record = { ...data, id: this.#nextId++ } as T;
    this.#records.set(record.id, record);
    await this.#persist({ op: 'put', record });
    return record;
  }

  async update(id: number, patch: Partial<Omit<T, 'id'>>): Promise<T> {
    const current = this.#records.get(id);
    if (!current) throw new ComfyVastError('NOT_FOUND', `No record ${id} in ${this.name}`, { details: { collection: this.name, id } });
    const record = { ...current, ...patch, id } as T;
    this.#records.set(id, record);
    await this.#persist({ op: 'put', record });
    return record;
  }

  async delete(id: number): Promise<boolean> {
    if (!this.#records.delete(id)) return false;
    await this.#persist({ op: 'delete', id });
    return true;
  }
}

export type CollectionChange<T> = { op: 'put'; record: T } | { op: 'delete'; id: number };
