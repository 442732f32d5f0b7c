import { ComfyVastError } from '../errors/index.js';
import type { Collection, Page, PageOptions, StoredRecord } from './store.js';

export type CollectionChange<T> = { op: 'put'; record: T } | { op: 'delete'; id: number };

/**
 * Where a collection's new ids come from when it does not count them itself (a store shared by several processes
 * reserves them in blocks). Ids taken must be increasing and never given to anyone else.
 */
export interface IdSource {
  /** The next id, or undefined when none is at hand: then `ready()` resolves once one is (or rejects saying why not). */
  take(): number | undefined;
  ready(): Promise<void>;
}

/**
 * The in-memory half of a collection: records kept in an id-ordered array (plus a map by id), so pages start
 * with a binary search on the cursor and never copy or sort. `persist` is called with every change, in order,
 * and its promise is the write's. Ids are counted from `nextId` unless an IdSource is given; while an insert waits
 * for the source's ids, the changes made after it wait too, so that they still apply in call order.
 */
export class MemoryCollection<T extends StoredRecord> implements Collection<T> {
  readonly name: string;
  #byId = new Map<number, T>();
  #list: T[] = [];
  #nextId = 1;
  #ids: IdSource | undefined;
  /** Set while an insert waits for ids: the changes made meanwhile run after it. */
  #waiting: Promise<void> | null = null;
  #persist: (change: CollectionChange<T>) => Promise<void>;

  constructor(name: string, records: Iterable<T> = [], persist: (change: CollectionChange<T>) => Promise<void> = async () => {}, ids: number | IdSource = 1) {
    this.name = name;
    this.#list = [...records].sort((a, b) => a.id - b.id);
    for (const r of this.#list) this.#byId.set(r.id, r);
    if (typeof ids === 'number') this.#nextId = Math.max(ids, (this.#list.at(-1)?.id ?? 0) + 1);
    else this.#ids = ids;
    this.#persist = persist;
  }

  /** The lowest id never handed out, when the collection counts its ids itself. */
  get nextId(): number {
    return this.#nextId;
  }

  get(id: number): T | undefined {
    return this.#byId.get(id);
  }

  find(predicate: (record: T) => boolean): T | undefined {
    return this.#list.find((r) => predicate(r));
  }

  filter(predicate: (record: T) => boolean): T[] {
    return this.#list.filter((r) => predicate(r));
  }

  all(): T[] {
    return this.#list.slice();
  }

  count(predicate?: (record: T) => boolean): number {
    if (!predicate) return this.#list.length;
    let n = 0;
    for (const r of this.#list) if (predicate(r)) n++;
    return n;
  }

  page(options: PageOptions<T> = {}): Page<T> {
    const limit = Math.max(1, options.limit ?? 50);
    const desc = (options.order ?? 'desc') === 'desc';
    const cursor = options.cursor ?? null;
    const list = this.#list;
    const step = desc ? -1 : 1;
    // The first index past the cursor: ids below it when going down, above it when going up.
    let i = desc ? (cursor === null ? list.length : this.#indexOf(cursor)) - 1 : cursor === null ? 0 : this.#indexOf(cursor + 1);
    const items: T[] = [];
    for (; i >= 0 && i < list.length; i += step) {
      const r = list[i]!;
      if (options.where && !options.where(r)) continue;
      if (items.length === limit) return { items, nextCursor: items.at(-1)!.id };
      items.push(r);
    }
    return { items, nextCursor: null };
  }

  async insert(data: Omit<T, 'id'>): Promise<T> {
    if (this.#waiting) return this.#afterWaiting(() => this.insert(data), true);
    const id = this.#ids ? this.#ids.take() : this.#nextId++;
    if (id === undefined) {
      const waiting = this.#ids!.ready();
      this.#waiting = waiting;
      // Registered first, so it runs before the changes queued behind the wait.
      waiting.then(
        () => this.#stopWaiting(waiting),
        () => this.#stopWaiting(waiting),
      );
      return this.#afterWaiting(() => this.insert(data), true);
    }
    const record = { ...data, id } as T;
    // Ids from a source interleave with those other processes insert: the record goes to its place by id.
    if (this.#ids) this.restore(id, record);
    else {
      this.#byId.set(id, record);
      this.#list.push(record);
    }
    await this.#persist({ op: 'put', record });
    return record;
  }

  async update(id: number, patch: Partial<Omit<T, 'id'>>): Promise<T> {
    if (this.#waiting) return this.#afterWaiting(() => this.update(id, patch), false);
    const current = this.#byId.get(id);
    if (!current) throw new ComfyVastError('NOT_FOUND', `No record ${id} in ${this.name}`, { details: { collection: this.name, id } });
    const record = { ...current, ...patch, id } as T;
    this.restore(id, record);
    await this.#persist({ op: 'put', record });
    return record;
  }

  async delete(id: number): Promise<boolean> {
    if (this.#waiting) return this.#afterWaiting(() => this.delete(id), false);
    if (!this.#byId.has(id)) return false;
    this.restore(id, undefined);
    await this.#persist({ op: 'delete', id });
    return true;
  }

  /** Sets the record with this id to `record`, or removes it: how a store puts back what a failed write changed. */
  restore(id: number, record: T | undefined): void {
    const at = this.#indexOf(id);
    const present = this.#list[at]?.id === id;
    if (record) {
      this.#byId.set(id, record);
      if (present) this.#list[at] = record;
      else this.#list.splice(at, 0, record);
    } else if (present) {
      this.#byId.delete(id);
      this.#list.splice(at, 1);
    }
  }

  #stopWaiting(waiting: Promise<void>): void {
    if (this.#waiting === waiting) this.#waiting = null;
  }

  /** Runs `change` once the ids waited for are at hand; an insert fails with the wait when no ids came. */
  #afterWaiting<R>(change: () => Promise<R>, needsIds: boolean): Promise<R> {
    return this.#waiting!.then(change, (error: unknown) => (needsIds ? Promise.reject(error) : change()));
  }

  /** The index of the first record whose id is at least `id`. */
  #indexOf(id: number): number {
    let lo = 0;
    let hi = this.#list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#list[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
