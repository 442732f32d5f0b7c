import { ComfyVastError } from '../errors/index.js';
import type { Logger } from '../util/index.js';
import { writeFileAtomic } from './atomic-write.js';
import { fileError } from './errors.js';
import type { StoreFs, WritableFile } from './fs.js';
import type { Layout } from './layout.js';
import { applyChange } from './load.js';
import type { CollectionChange } from './memory-collection.js';
import type { StoredRecord } from './store.js';

export interface LogFileOptions<T> {
  fs: StoreFs;
  layout: Layout;
  name: string;
  logger: Logger;
  /** The records as on disk. */
  durable: Map<number, T>;
  /** Segments on disk newer than the snapshot, with their sizes. */
  segments: Map<number, number>;
  /** The highest segment number in use so far, snapshot included. */
  lastSeq: number;
  nextId: () => number;
  /**
   * Once the segments not yet in the snapshot reach this size, or the snapshot's own size when that is larger, a
   * new segment starts and the snapshot is rebuilt.
   */
  segmentBytes: number;
  /** The size of the snapshot on disk (0 when there is none). */
  snapshotBytes: number;
}

// Small enough that serialising one chunk blocks the event loop for well under a millisecond, with small records
// (by count) or with large ones such as saved workflows (by size).
const RECORDS_PER_CHUNK = 250;
const BYTES_PER_CHUNK = 256 * 1024;

/**
 * A `log` collection: each batch of changes is appended to the current JSONL segment and fsynced, so a write
 * costs the same with 100 or 100,000 records. When the segments grow past `segmentBytes` and past the snapshot's
 * size, a new segment starts and the snapshot is rewritten in the background, in chunks that yield to the event
 * loop between them; then the segments it covers are removed. Waiting for the segments to outgrow the snapshot
 * keeps the rewriting to at most about one byte per byte appended, however large the collection.
 */
export class LogFile<T extends StoredRecord> {
  #o: LogFileOptions<T>;
  #segment: WritableFile | null = null;
  #seq: number;
  #size = 0;
  #closed: Map<number, number>;
  #compaction: Promise<void> | null = null;
  /** Pending bytes at which the next compaction starts; pushed further out after one fails. */
  #compactAt: number;
  #broken: ComfyVastError | null = null;

  constructor(options: LogFileOptions<T>) {
    this.#o = options;
    this.#seq = options.lastSeq;
    this.#closed = new Map(options.segments);
    this.#compactAt = Math.max(options.segmentBytes, options.snapshotBytes);
  }

  get(id: number): T | undefined {
    return this.#o.durable.get(id);
  }

  async write(batch: CollectionChange<T>[]): Promise<void> {
    if (this.#broken) throw this.#broken;
    const segment = this.#segment ?? (await this.#openSegment());
    const file = this.#o.layout.segment(this.#o.name, this.#seq);
    const text = batch.map((change) => `${JSON.stringify(change)}\n`).join('');
    try {
      await segment.write(text);
      await segment.sync();
    } catch (error) {
      await this.#undoAppend(segment, file, error);
      throw fileError('write', file, error);
    }
    this.#size += Buffer.byteLength(text);
    for (const change of batch) applyChange(this.#o.durable, change);
    if (this.#pendingBytes() >= this.#compactAt && !this.#compaction) await this.#roll();
  }

  /** Waits for a running compaction, then closes the segment. */
  async close(): Promise<void> {
    await this.#compaction;
    await this.#segment?.close();
    this.#segment = null;
  }

  #pendingBytes(): number {
    let total = this.#size;
    for (const bytes of this.#closed.values()) total += bytes;
    return total;
  }

  async #openSegment(): Promise<WritableFile> {
    const seq = this.#seq + 1;
    const file = this.#o.layout.segment(this.#o.name, seq);
    let segment: WritableFile;
    try {
      segment = await this.#o.fs.open(file, 'append');
    } catch (error) {
      throw fileError('create', file, error);
    }
    this.#segment = segment;
    this.#seq = seq;
    this.#size = 0;
    try {
      await this.#o.fs.syncDir(this.#o.layout.collections);
    } catch (error) {
      throw fileError('create', file, error);
    }
    return segment;
  }

  /**
   * A failed append may have left part of the batch in the file, which the next load would replay although the
   * callers were told it failed: cut the file back. If even that fails, refuse writes until the store is reopened.
   */
  async #undoAppend(segment: WritableFile, file: string, cause: unknown): Promise<void> {
    try {
      await segment.truncate(this.#size);
      await segment.sync();
    } catch (error) {
      const reason = fileError('write', file, cause).message;
      this.#broken = new ComfyVastError(
        'STORE_ERROR',
        `Writes to collection ${this.#o.name} are stopped: ${reason}, and the partial write could not be undone. Reopen the store once the disk is writable.`,
        { details: { file, collection: this.#o.name }, cause: error },
      );
    }
  }

  async #roll(): Promise<void> {
    const through = this.#seq;
    this.#closed.set(through, this.#size);
    this.#size = 0;
    // The batch that triggered the roll is already durable: a failed close must not report it failed.
    await this.#segment?.close().catch((error: unknown) => this.#o.logger.warn({ err: error, collection: this.#o.name }, 'could not close a log segment'));
    this.#segment = null;
    // Records are never mutated in place, so copying the references is a consistent snapshot.
    const records = [...this.#o.durable.values()];
    const nextId = this.#o.nextId();
    const pending = this.#pendingBytes();
    this.#compaction = this.#compact(records, nextId, through)
      .then((snapshotBytes) => {
        this.#compactAt = Math.max(this.#o.segmentBytes, snapshotBytes);
      })
      .catch((error: unknown) => {
        // Retrying at every write would start a segment per write on a full disk: wait for another segment's worth.
        this.#compactAt = pending + this.#o.segmentBytes;
        this.#o.logger.error({ err: error, collection: this.#o.name }, 'log compaction failed; its segments are kept');
      })
      .finally(() => {
        this.#compaction = null;
      });
  }

  /** Writes the snapshot and removes the segments it covers; resolves with the snapshot's size. */
  async #compact(records: T[], nextId: number, through: number): Promise<number> {
    const { fs, layout, name } = this.#o;
    const path = layout.snapshot(name);
    let bytes = 0;
    async function* counted(): AsyncGenerator<string> {
      for await (const chunk of snapshotChunks(records, nextId, through)) {
        bytes += Buffer.byteLength(chunk);
        yield chunk;
      }
    }
    try {
      await writeFileAtomic(fs, path, counted());
    } catch (error) {
      throw fileError('write', path, error);
    }
    for (const seq of [...this.#closed.keys()].filter((s) => s <= through)) {
      this.#closed.delete(seq);
      // The snapshot now holds these changes; a segment left behind is skipped and removed on the next open.
      await fs.unlink(layout.segment(name, seq)).catch(() => undefined);
    }
    return bytes;
  }
}

/** The snapshot's text in chunks of at most RECORDS_PER_CHUNK records or about BYTES_PER_CHUNK, yielding between them. */
async function* snapshotChunks(records: StoredRecord[], nextId: number, segment: number): AsyncGenerator<string> {
  yield `{"nextId":${nextId},"segment":${segment},"records":[`;
  let chunk: string[] = [];
  let size = 0;
  let first = true;
  const flush = (): string => {
    const text = `${first ? '' : ','}\n${chunk.join(',\n')}`;
    first = false;
    chunk = [];
    size = 0;
    return text;
  };
  for (const record of records) {
    const text = JSON.stringify(record);
    chunk.push(text);
    size += text.length;
    if (chunk.length >= RECORDS_PER_CHUNK || size >= BYTES_PER_CHUNK) {
      yield flush();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (chunk.length > 0) yield flush();
  yield '\n]}\n';
}
