import type { Low } from 'lowdb';
import type { Logger } from '../util/index.js';
import type { RawRecord, SnapshotFile } from './files.js';
import type { StoreFs } from './fs.js';
import { applyChange } from './load.js';
import type { CollectionChange } from './memory-collection.js';
import type { StoredRecord } from './store.js';

/**
 * A `document` collection: one lowdb file rewritten whole (atomically) per batch of changes. Meant for small
 * collections; the write queue makes a burst of changes cost one rewrite.
 */
export class DocumentFile<T extends StoredRecord> {
  #durable: Map<number, T>;
  #leftovers: string[];

  constructor(
    private readonly fs: StoreFs,
    private readonly db: Low<SnapshotFile>,
    durable: Map<number, T>,
    private readonly nextId: () => number,
    /** Segments of a log this collection was before: replayed at load, removed after the first rewrite. */
    leftovers: { files: string[]; lastSeq: number },
    private readonly logger: Logger,
  ) {
    this.#durable = durable;
    this.#leftovers = leftovers.files;
    db.data = { ...db.data, segment: Math.max(db.data.segment, leftovers.lastSeq) };
  }

  /** The record as it is on disk. */
  get(id: number): T | undefined {
    return this.#durable.get(id);
  }

  async write(batch: CollectionChange<T>[]): Promise<void> {
    const next = new Map(this.#durable);
    for (const change of batch) applyChange(next, change);
    const previous = this.db.data;
    this.db.data = { nextId: this.nextId(), segment: previous.segment, records: [...next.values()] as unknown as RawRecord[] };
    try {
      await this.db.write();
    } catch (error) {
      this.db.data = previous;
      throw error;
    }
    this.#durable = next;
    await this.#removeLeftovers();
  }

  /** Nothing stays open between writes. */
  async close(): Promise<void> {}

  async #removeLeftovers(): Promise<void> {
    for (const file of this.#leftovers.splice(0)) {
      // Already folded into the file just written, so a failure here only leaves a file to skip on the next load.
      await this.fs.unlink(file).catch((error: unknown) => this.logger.warn({ file, err: error }, 'could not remove an old log segment'));
    }
  }
}
