import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCollection, LowdbStore } from '../../src/store/index.js';
import { errno, faultyFs, storeHarness } from './helpers.js';

const h = storeHarness();

const Thing = z.object({ id: z.number().int().positive(), tag: z.number().int() });
const things = {
  log: defineCollection({ name: 'things', schema: Thing, kind: 'log' }),
  document: defineCollection({ name: 'things', schema: Thing, kind: 'document' }),
};

const change = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), tag: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ op: fc.constant('update' as const), pick: fc.nat(), tag: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
);
/** Changes made in one tick, and whether the disk is full while they are written. */
const burst = fc.record({ changes: fc.array(change, { minLength: 1, maxLength: 5 }), full: fc.boolean() });

describe('memory and disk agree', () => {
  it('after any mix of writes, bursts and full-disk failures, a reload shows exactly what memory showed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(burst, { maxLength: 12 }), fc.constantFrom<'log' | 'document'>('log', 'document'), async (bursts, kind) => {
        const dir = await h.dir();
        let full = false;
        const fs = faultyFs((op, path) => (full && op === 'write' && path.includes('things') ? errno('ENOSPC') : undefined));
        const store = await LowdbStore.open({ dir, fs, segmentBytes: 300 });
        const c = store.collection(things[kind]);
        for (const b of bursts) {
          full = b.full;
          const pending: Promise<unknown>[] = [];
          for (const ch of b.changes) {
            const ids = c.all().map((r) => r.id);
            if (ch.op === 'insert') pending.push(c.insert({ tag: ch.tag }));
            else if (ids.length > 0) {
              const id = ids[ch.pick % ids.length]!;
              pending.push(ch.op === 'update' ? c.update(id, { tag: ch.tag }) : c.delete(id));
            }
          }
          const results = await Promise.allSettled(pending);
          // A full disk fails the whole burst; otherwise all of it lands.
          expect(results.every((r) => r.status === (b.full ? 'rejected' : 'fulfilled'))).toBe(true);
        }
        full = false;
        const memory = c.all();
        await store.close();
        const again = await LowdbStore.open({ dir });
        expect(again.collection(things[kind]).all()).toEqual(memory);
        await again.close();
      }),
      { numRuns: 40 },
    );
  });
});
