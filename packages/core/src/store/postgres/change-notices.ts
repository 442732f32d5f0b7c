import { z } from 'zod';

/**
 * What a process tells the others after a write, through NOTIFY on the schema's channel: who wrote (so that a
 * process ignores its own), and which records of which collection are now at which version (0: deleted), or which
 * named values changed. The receivers read the records themselves: a notice never carries data.
 */
export const ChangeNotice = z.union([
  z
    .object({ s: z.string(), c: z.string(), i: z.array(z.number().int().positive()), v: z.array(z.number().int().nonnegative()) })
    .refine((notice) => notice.i.length === notice.v.length, 'one version per id'),
  z.object({ s: z.string(), k: z.array(z.string()) }),
]);
export type ChangeNotice = z.infer<typeof ChangeNotice>;

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a change larger than this is said in several. */
export const MAX_NOTICE_BYTES = 7900;

/** The notices for a batch of one collection: each id with its version after the write (0 when deleted). */
export function recordNotices(sender: string, collection: string, changed: ReadonlyMap<number, number>): string[] {
  const notices: string[] = [];
  const empty = Buffer.byteLength(JSON.stringify({ s: sender, c: collection, i: [], v: [] }));
  let ids: number[] = [];
  let versions: number[] = [];
  let bytes = empty;
  const cut = () => {
    notices.push(JSON.stringify({ s: sender, c: collection, i: ids, v: versions }));
    ids = [];
    versions = [];
    bytes = empty;
  };
  for (const [id, version] of changed) {
    // Each entry adds its digits and a comma in each array.
    const size = String(id).length + String(version).length + 2;
    if (bytes + size > MAX_NOTICE_BYTES) cut();
    ids.push(id);
    versions.push(version);
    bytes += size;
  }
  if (ids.length > 0) cut();
  return notices;
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
