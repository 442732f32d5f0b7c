import { isComfyVastError } from '../errors/index.js';
import type { Collection, StoredRecord } from '../store/store.js';

/**
 * Several API processes on one store: which process follows a piece of long remote work (a generation, a setup, a
 * download). Each follows what it started, and adopts the work of a process that is gone.
 */
export interface WorkOwnership {
  /** This process's id, stored as `owner` on the work it follows. */
  readonly self: string;
  /** Which of these process ids belong to processes that still run. */
  alive(owners: readonly string[]): Promise<ReadonlySet<string>>;
}

/** A record of work that one process follows: `owner` is its id, null when no process was named (one process). */
export type OwnedRecord = StoredRecord & { owner: string | null };

/**
 * Claims, for this process, those of `candidates` (work in flight that this process does not follow) whose owner is
 * gone or unnamed, and answers the records claimed. Each claim is a versioned update: of two processes claiming the
 * same record one wins, the other gets CONFLICT and leaves it.
 */
export async function claimOrphans<T extends OwnedRecord>(collection: Collection<T>, candidates: readonly T[], ownership: WorkOwnership): Promise<T[]> {
  const owners = [...new Set(candidates.flatMap((r) => (r.owner === null ? [] : [r.owner])))];
  const alive = owners.length > 0 ? await ownership.alive(owners) : new Set<string>();
  const orphans = candidates.filter((r) => r.owner === null || !alive.has(r.owner));
  const claimed = await Promise.all(
    orphans.map(async (r) => {
      // Claimed meanwhile by another process whose write is already in memory.
      if (collection.get(r.id)?.owner !== r.owner) return null;
      try {
        return await collection.update(r.id, { owner: ownership.self } as Partial<Omit<T, 'id'>>);
      } catch (err) {
        if (isComfyVastError(err, 'CONFLICT')) return null;
        throw err;
      }
    }),
  );
  return claimed.filter((r): r is Awaited<T> => r !== null);
}
