import { join } from 'node:path';
import { ComfyVastError } from '../errors/index.js';

/**
 * Where each thing lives in the data directory:
 *
 *   comfy-vast.lock                  the pid of the process that owns the directory
 *   meta.json                        { schemaVersion, values }
 *   collections/<name>.json          { nextId, segment, records }: a document collection, or a log's snapshot
 *   collections/<name>.<seq>.jsonl   a log's segments: one put/delete change per line, newer seq last
 *   migration.json                   present only while a migration runs: where its backup is
 *   backups/schema-v<n>-<time>/      the files as they were before migrating from version n
 *   db.json                          version 0: every collection in one file (migrated on open)
 */
export class Layout {
  constructor(readonly dir: string) {}

  get lock(): string {
    return join(this.dir, 'comfy-vast.lock');
  }
  get meta(): string {
    return join(this.dir, 'meta.json');
  }
  get collections(): string {
    return join(this.dir, 'collections');
  }
  get marker(): string {
    return join(this.dir, 'migration.json');
  }
  get legacy(): string {
    return join(this.dir, 'db.json');
  }
  get backups(): string {
    return join(this.dir, 'backups');
  }
  snapshot(name: string): string {
    return join(this.collections, `${name}.json`);
  }
  segment(name: string, seq: number): string {
    return join(this.collections, `${name}.${String(seq).padStart(6, '0')}.jsonl`);
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/i;
const SNAPSHOT = /^([a-z0-9][a-z0-9_-]*)\.json$/i;
const SEGMENT = /^([a-z0-9][a-z0-9_-]*)\.(\d+)\.jsonl$/i;

/** Collection names become file names, so they are kept to letters, digits, `-` and `_`. */
export function checkCollectionName(name: string): void {
  if (!NAME.test(name)) {
    throw new ComfyVastError('STORE_ERROR', `Collection name "${name}" is not allowed: use letters, digits, "-" and "_"`, { details: { collection: name } });
  }
}

/** What a file in the collections folder is, from its name. */
export function parseCollectionFile(file: string): { name: string; seq: number | null } | null {
  const segment = SEGMENT.exec(file);
  if (segment) return { name: segment[1]!, seq: Number(segment[2]) };
  const snapshot = SNAPSHOT.exec(file);
  return snapshot ? { name: snapshot[1]!, seq: null } : null;
}
