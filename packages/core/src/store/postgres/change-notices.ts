import { z } from 'zod';

/**
 * What a process tells the others after a write, through NOTIFY on the schema's channel: who wrote (so that a
 * process ignores its own), and which records of which collection are now at which version (0: deleted), or which
 * named values changed. A notice carries the records written (`d`, one per id) when they fit in it, which spares every
 * receiver a read; a receiver reads the records of a notice without them.
 */
export const ChangeNotice = z.union([
  z
    .object({
      s: z.string(),
      c: z.string(),
      i: z.array(z.number().int().positive()),
      v: z.array(z.number().int().nonnegative()),
      d: z.array(z.unknown()).optional(),
    })
    .refine((notice) => notice.i.length === notice.v.length && (notice.d === undefined || notice.d.length === notice.i.length), 'one version (and record) per id'),
  z.object({ s: z.string(), k: z.array(z.string()) }),
]);
export type ChangeNotice = z.infer<typeof ChangeNotice>;

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a change larger than this is said in several. */
export const MAX_NOTICE_BYTES = 7900;

/** One record of a write: its version after it (0 when deleted) and, unless deleted, the record as JSON. */
export interface ChangedRecord {
  version: number;
  json?: string;
}

/**
 * The notices for a batch of one collection. Records that fit go with their data, the others (and deletions) by id
 * and version only; each notice stays under PostgreSQL's payload limit.
 */
export function recordNotices(sender: string, collection: string, changed: ReadonlyMap<number, ChangedRecord>): string[] {
  const head = `{"s":${JSON.stringify(sender)},"c":${JSON.stringify(collection)}`;
  const notices: string[] = [];
  const withData = new NoticeBuilder(head, true, notices);
  const idsOnly = new NoticeBuilder(head, false, notices);
  for (const [id, { version, json }] of changed) {
    if (json === undefined || !withData.add(id, version, json)) idsOnly.add(id, version);
  }
  withData.flush();
  idsOnly.flush();
  return notices;
}

/** Accumulates entries into notices of one kind (with or without data), cutting one when the next would not fit. */
class NoticeBuilder {
  #ids: number[] = [];
  #versions: number[] = [];
  #data: string[] = [];
  #bytes: number;
  readonly #empty: number;
  readonly #head: string;
  readonly #carriesData: boolean;
  readonly #out: string[];

  constructor(head: string, carriesData: boolean, out: string[]) {
    this.#head = head;
    this.#carriesData = carriesData;
    this.#out = out;
    this.#empty = Buffer.byteLength(this.#render());
    this.#bytes = this.#empty;
  }

  /** Adds an entry; false when it could not fit even in a notice of its own (only possible with data). */
  add(id: number, version: number, json?: string): boolean {
    // Each entry adds its digits and a comma in each array, and its record and a comma in the data.
    const size = String(id).length + String(version).length + 2 + (this.#carriesData ? Buffer.byteLength(json!) + 1 : 0);
    if (this.#empty + size > MAX_NOTICE_BYTES) return false;
    if (this.#bytes + size > MAX_NOTICE_BYTES) this.flush();
    this.#ids.push(id);
    this.#versions.push(version);
    if (this.#carriesData) this.#data.push(json!);
    this.#bytes += size;
    return true;
  }

  flush(): void {
    if (this.#ids.length === 0) return;
    this.#out.push(this.#render());
    this.#ids = [];
    this.#versions = [];
    this.#data = [];
    this.#bytes = this.#empty;
  }

  #render(): string {
    const data = this.#carriesData ? `,"d":[${this.#data.join(',')}]` : '';
    return `${this.#head},"i":[${this.#ids.join(',')}],"v":[${this.#versions.join(',')}]${data}}`;
  }
}

/** The notices for a write of named values. */
export function valueNotices(sender: string, keys: readonly string[]): string[] {
  const notices: string[] = [];
  let batch: string[] = [];
  const size = (k: string[]) => Buffer.byteLength(JSON.stringify({ s: sender, k }));
  for (const key of keys) {
    if (batch.length > 0 && size([...batch, key]) > MAX_NOTICE_BYTES) {
      notices.push(JSON.stringify({ s: sender, k: batch }));
      batch = [];
    }
    batch.push(key);
  }
  if (batch.length > 0) notices.push(JSON.stringify({ s: sender, k: batch }));
  return notices;
}
