import { z } from 'zod';

/** A record as found on disk, before its collection's schema has checked it. */
export const RawRecord = z.looseObject({ id: z.number().int().positive() });
export type RawRecord = z.infer<typeof RawRecord>;

/**
 * `collections/<name>.json`: a document collection, or the snapshot of a log up to segment `segment`. Records are
 * only checked to be objects with an id here (a zod pass over 100,000 of them would double the load time); their
 * collection's schema checks them in full.
 */
export const SnapshotFile = z.object({
  nextId: z.number().int().positive(),
  segment: z.number().int().nonnegative(),
  records: z.array(z.custom<RawRecord>(isRawRecord, 'each record must be an object with a positive integer id')),
});

export function isRawRecord(value: unknown): value is RawRecord {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof value === 'object' && value !== null && Number.isInteger(id) && (id as number) > 0;
}
export type SnapshotFile = z.infer<typeof SnapshotFile>;

/** `meta.json`: the schema version of the data directory and the store's small named values. */
export const MetaFile = z.object({
  schemaVersion: z.number().int().nonnegative(),
  values: z.record(z.string(), z.unknown()),
});
export type MetaFile = z.infer<typeof MetaFile>;

/** `db.json` of version 0: every collection's records in one file. */
export const LegacyFile = z.object({
  collections: z.record(z.string(), z.array(RawRecord)),
  values: z.record(z.string(), z.unknown()).default({}),
});

/** `migration.json`: written once the backup is complete, removed once the migration is. */
export const MarkerFile = z.object({ from: z.number().int().nonnegative(), to: z.number().int(), backup: z.string() });
