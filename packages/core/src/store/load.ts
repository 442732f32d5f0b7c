import { Low } from 'lowdb';
import type { Logger } from '../util/index.js';
import { AtomicJsonFile } from './json-file.js';
import { corruptFileError, fileError } from './errors.js';
import { errnoCode, type StoreFs } from './fs.js';
import { isRawRecord, SnapshotFile, type RawRecord } from './files.js';
import { parseCollectionFile, type Layout } from './layout.js';
import type { CollectionChange } from './memory-collection.js';

/** One collection as read from disk: its snapshot with the newer segments replayed on top, not yet validated. */
export interface LoadedCollection {
  name: string;
  /** lowdb over `collections/<name>.json`; its data is the snapshot as on disk. */
  snapshot: Low<SnapshotFile>;
  records: Map<number, RawRecord>;
  /** The file that last wrote each record, to name it when the record fails validation. */
  sources: Map<number, string>;
  nextId: number;
  /** The snapshot's size in bytes (0 when there is none). */
  snapshotBytes: number;
  /** Segments newer than the snapshot, with their sizes in bytes. */
  segments: Map<number, number>;
  /** Segments already folded into the snapshot: a crash came between compaction's rename and their removal. */
  obsolete: number[];
}

export function applyChange<T extends { id: number }>(records: Map<number, T>, change: CollectionChange<T>): void {
  if (change.op === 'put') records.set(change.record.id, change.record);
  else records.delete(change.id);
}

export function emptySnapshot(): SnapshotFile {
  return { nextId: 1, segment: 0, records: [] };
}

/** Reads every collection in the collections folder. */
export async function loadCollections(fs: StoreFs, layout: Layout, logger: Logger): Promise<Map<string, LoadedCollection>> {
  let files: string[];
  try {
    files = await fs.readdir(layout.collections);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return new Map();
    throw fileError('list', layout.collections, error);
  }
  const segmentsByName = new Map<string, number[]>();
  for (const file of files) {
    const parsed = parseCollectionFile(file);
    if (!parsed) continue;
    const seqs = segmentsByName.get(parsed.name) ?? [];
    if (parsed.seq !== null) seqs.push(parsed.seq);
    segmentsByName.set(parsed.name, seqs);
  }
  const loaded = new Map<string, LoadedCollection>();
  for (const [name, seqs] of segmentsByName) {
    loaded.set(name, await loadCollection(fs, layout, name, seqs.sort((a, b) => a - b), logger));
  }
  return loaded;
}

async function loadCollection(fs: StoreFs, layout: Layout, name: string, seqs: number[], logger: Logger): Promise<LoadedCollection> {
  const path = layout.snapshot(name);
  const file = new AtomicJsonFile(fs, path, SnapshotFile);
  const snapshot = new Low<SnapshotFile>(file, emptySnapshot());
  await snapshot.read();
  const collection: LoadedCollection = {
    name,
    snapshot,
    records: new Map(),
    sources: new Map(),
    nextId: snapshot.data.nextId,
    snapshotBytes: file.bytesRead,
    segments: new Map(),
    obsolete: [],
  };
  for (const record of snapshot.data.records) {
    collection.records.set(record.id, record);
    collection.sources.set(record.id, path);
  }
  for (const seq of seqs) {
    if (seq <= snapshot.data.segment) {
      collection.obsolete.push(seq);
      continue;
    }
    const file = layout.segment(name, seq);
    let text: string;
    try {
      text = await fs.readFile(file);
    } catch (error) {
      throw fileError('read', file, error);
    }
    replaySegment(text, file, collection, logger);
    collection.segments.set(seq, Buffer.byteLength(text));
  }
  for (const id of collection.records.keys()) collection.nextId = Math.max(collection.nextId, id + 1);
  return collection;
}

function replaySegment(text: string, file: string, into: LoadedCollection, logger: Logger): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    let change: unknown;
    try {
      change = JSON.parse(line);
    } catch (error) {
      // Only the last line can be torn: a crash in the middle of an append. It was never acknowledged.
      if (i === lines.length - 1) {
        logger.warn({ file, line: i + 1 }, 'ignoring a torn last line left by an interrupted write');
        break;
      }
      throw corruptFileError(file, `line ${i + 1} is not valid JSON`, { line: i + 1 }, error);
    }
    if (!isChange(change)) throw corruptFileError(file, `line ${i + 1} is not a put or delete change`, { line: i + 1 });
    applyChange(into.records, change);
    const id = change.op === 'put' ? change.record.id : change.id;
    if (change.op === 'put') into.sources.set(id, file);
    into.nextId = Math.max(into.nextId, id + 1);
  }
}

function isId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

function isChange(value: unknown): value is CollectionChange<RawRecord> {
  if (typeof value !== 'object' || value === null) return false;
  const change = value as { op?: unknown; id?: unknown; record?: unknown };
  if (change.op === 'delete') return isId(change.id);
  return change.op === 'put' && isRawRecord(change.record);
}
