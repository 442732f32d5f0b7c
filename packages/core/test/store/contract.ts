import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCollection, type Collection, type Store } from '../../src/store/index.js';
import { changeAcrossBatches, generation, generations, settings, type Generation } from './helpers.js';

/** A kind of store under the contract: each `place()` is new and empty (a directory, a database schema...). */
export interface StoreUnderTest {
  place(): Promise<{ open(): Promise<Store> }>;
  /**
   * Whether a store opened on a place after `close` reads back what the last one wrote. A memory store keeps
   * nothing past its own life, so the tests of reopening and closing are not part of its contract.
   */
  persistent: boolean;
}

const KINDS = ['document', 'log'] as const;
const Thing = z.object({ id: z.number().int().positive(), tag: z.number().int() });
const things = (kind: (typeof KINDS)[number]) => defineCollection({ name: 'things', schema: Thing, kind });

/** A record whose shape tests what a store keeps: key order, strings JSON allows, numbers, nesting. */
const Rich = z.object({
  id: z.number().int().positive(),
  zeta: z.string(),
  alpha: z.record(z.string(), z.unknown()),
  numbers: z.array(z.number()),
  nothing: z.null(),
  nested: z.array(z.object({ b: z.boolean(), a: z.string() })),
});
const rich = defineCollection({ name: 'rich', schema: Rich, kind: 'log' });
const richRecord: Omit<z.infer<typeof Rich>, 'id'> = {
  zeta: 'nul \u0000, quote " backslash \\ newline \n emoji 🎨 accents é ß 漢字',
  alpha: { '10': 'ten', '9': 'nine', last_node_id: 4, a: { y: 1, x: 2 } },
  numbers: [0, -1, 1.5, 1e-7, 2 ** 53 - 1, -(2 ** 31)],
  nothing: null,
  nested: [{ b: true, a: '' }, { b: false, a: 'x' }],
};

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), tag: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ op: fc.constant('update' as const), pick: fc.nat(), tag: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
);

type Change = { op: 'insert'; tag: number } | { op: 'update'; pick: number; tag: number } | { op: 'delete'; pick: number };

/** One random change, on a record picked among those present. */
function apply(c: Collection<z.infer<typeof Thing>>, ch: Change): Promise<unknown> | undefined {
  if (ch.op === 'insert') return c.insert({ tag: ch.tag });
  const ids = c.all().map((r) => r.id);
  if (ids.length === 0) return undefined;
  const id = ids[ch.pick % ids.length]!;
  return ch.op === 'update' ? c.update(id, { tag: ch.tag }) : c.delete(id);
}

/** The store contract (src/store/store.ts), the same for every store. */
export function storeContract(name: string, under: StoreUnderTest): void {
  const fresh = async () => {
    const place = await under.place();
    return { place, store: await place.open() };
  };

  describe(`${name}: the store contract`, () => {
    for (const kind of KINDS) {
      it(`reads, updates and deletes ${kind} records by ids that are never given twice`, async () => {
        const { store } = await fresh();
        const c = store.collection(things(kind));
        const [a, b, d] = await Promise.all([c.insert({ tag: 1 }), c.insert({ tag: 2 }), c.insert({ tag: 1 })]);
        expect([a, b, d]).toEqual([
          { id: 1, tag: 1 },
          { id: 2, tag: 2 },
          { id: 3, tag: 1 },
        ]);
        expect(c.get(2)).toEqual(b);
        expect(c.get(4)).toBeUndefined();
        expect(c.find((r) => r.tag === 1)).toEqual(a);
        expect(c.filter((r) => r.tag === 1)).toEqual([a, d]);
        expect(c.count()).toBe(3);
        expect(c.count((r) => r.tag === 2)).toBe(1);
        expect(await c.update(2, { tag: 5 })).toEqual({ id: 2, tag: 5 });
        await expect(c.update(9, { tag: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await c.delete(3)).toBe(true);
        expect(await c.delete(3)).toBe(false);
        expect(c.all()).toEqual([
          { id: 1, tag: 1 },
          { id: 2, tag: 5 },
        ]);
        // The deleted highest id is not given again.
        expect((await c.insert({ tag: 0 })).id).toBe(4);
      });
    }

    it('gives the same collection object for the same name', async () => {
      const { store } = await fresh();
      expect(store.collection(settings)).toBe(store.collection(settings));
    });

    it('pages the newest records of one user and server with a cursor, and the oldest first when asked', async () => {
      const { place, store } = await fresh();
      let c = store.collection(generations);
      for (let n = 0; n < 30; n++) await c.insert(generation(n));
      await c.delete(25);
      if (under.persistent) {
        await store.close();
        c = (await place.open()).collection(generations);
      }
      const where = (g: Generation) => g.userId === 1 && g.serverId === 1;
      const first = c.page({ where, limit: 2 });
      // Record n + 1 belongs to user 1 on server 1 when n is a multiple of 6: ids 1, 7, 13, 19 and 25 (deleted).
      expect(first).toEqual({ items: [c.get(19), c.get(13)], nextCursor: 13 });
      expect(c.page({ where, limit: 2, cursor: first.nextCursor })).toEqual({ items: [c.get(7), c.get(1)], nextCursor: null });
      expect(c.page({ where, order: 'asc', limit: 3 })).toEqual({ items: [c.get(1), c.get(7), c.get(13)], nextCursor: 13 });
      expect(c.page({ limit: 50 }).items.map((g) => g.id)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i).filter((id) => id !== 25));
    });

    it('applies the changes made in one tick in call order, and resolves them in that order', async () => {
      const { place, store } = await fresh();
      const c = store.collection(settings);
      const order: string[] = [];
      const track = <T>(label: string, p: Promise<T>) => p.then(() => order.push(label));
      await Promise.all([
        track('insert', c.insert({ key: 'k', value: '1' })),
        track('update', c.update(1, { value: '2' })),
        track('insert2', c.insert({ key: 'other', value: 'x' })),
        track('delete', c.delete(2)),
        track('update2', c.update(1, { value: '3' })),
      ]);
      expect(order).toEqual(['insert', 'update', 'insert2', 'delete', 'update2']);
      expect(c.all()).toEqual([{ id: 1, key: 'k', value: '3' }]);
      if (!under.persistent) return;
      await store.close();
      expect((await place.open()).collection(settings).all()).toEqual([{ id: 1, key: 'k', value: '3' }]);
    });

    it('keeps the order of changes to one record across batches', async () => {
      const { place, store } = await fresh();
      const c = store.collection(generations);
      await changeAcrossBatches(c);
      expect(c.all()).toEqual([{ ...generation(2), id: 2, prompt: 'last' }]);
      if (!under.persistent) return;
      await store.close();
      expect((await place.open()).collection(generations).all()).toEqual([{ ...generation(2), id: 2, prompt: 'last' }]);
    });

    it('keeps named values', async () => {
      const { place, store } = await fresh();
      expect(store.getValue('installation')).toBeUndefined();
      await store.setValue('installation', { publicKey: 'pk', created: [1, 2] });
      await Promise.all([store.setValue('n', 1), store.setValue('n', 2)]);
      expect(store.getValue('installation')).toEqual({ publicKey: 'pk', created: [1, 2] });
      expect(store.getValue('n')).toBe(2);
      if (!under.persistent) return;
      await store.close();
      const reopened = await place.open();
      expect(reopened.getValue('installation')).toEqual({ publicKey: 'pk', created: [1, 2] });
      expect(reopened.getValue('n')).toBe(2);
    });

    it('flush resolves once every write made so far has resolved', async () => {
      const { store } = await fresh();
      const c = store.collection(generations);
      const writes: Promise<unknown>[] = [];
      for (let n = 0; n < 5; n++) writes.push(c.insert(generation(n)));
      writes.push(store.setValue('k', 1));
      await store.flush();
      // Settled already: nothing is left for the database or the disk, only the promises' own callbacks.
      const settled = await Promise.race([Promise.all(writes).then(() => true), new Promise((resolve) => setImmediate(() => resolve(false)))]);
      expect(settled).toBe(true);
    });

    if (!under.persistent) return;

    it('reads records back exactly as written: key order, any string, numbers, nesting', async () => {
      const { place, store } = await fresh();
      const written = await store.collection(rich).insert(richRecord);
      await store.close();
      const read = (await place.open()).collection(rich).get(written.id);
      expect(read).toEqual(written);
      // The schema puts a record's own keys in its order; what is inside a z.record keeps the order it was written in.
      expect(JSON.stringify(read)).toBe(JSON.stringify(Rich.parse(written)));
    });

    it('ids stay never given twice across a reopen, even the deleted highest', async () => {
      const { place, store } = await fresh();
      const c = store.collection(settings);
      await c.insert({ key: 'a', value: '1' });
      await c.insert({ key: 'b', value: '2' });
      await c.delete(2);
      await store.close();
      expect((await (await place.open()).collection(settings).insert({ key: 'c', value: '3' })).id).toBe(3);
    });

    it('rejects writes made after close, leaving memory as it was', async () => {
      const { store } = await fresh();
      const c = store.collection(settings);
      await c.insert({ key: 'a', value: '1' });
      await store.close();
      await expect(c.insert({ key: 'b', value: '2' })).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(c.update(1, { value: '2' })).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(store.setValue('k', 1)).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect(c.all()).toEqual([{ id: 1, key: 'a', value: '1' }]);
      expect(store.getValue('k')).toBeUndefined();
    });

    it('refuses stored records that do not match the schema they are read with, every time it is asked', async () => {
      const { place, store } = await fresh();
      await store.collection(settings).insert({ key: 'theme', value: 'dark' });
      await store.close();
      const reopened = await place.open();
      const strict = defineCollection({ name: 'settings', schema: z.object({ id: z.number(), key: z.string(), value: z.enum(['light']) }) });
      expect(() => reopened.collection(strict)).toThrow(expect.objectContaining({ code: 'STORE_ERROR', details: expect.objectContaining({ collection: 'settings', id: 1 }) }));
      expect(() => reopened.collection(strict)).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
    });

    it('after any mix of bursts of writes, a reopen shows exactly what memory showed', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(change, { minLength: 1, maxLength: 5 }), { maxLength: 8 }), fc.constantFrom(...KINDS), async (bursts, kind) => {
          const { place, store } = await fresh();
          const c = store.collection(things(kind));
          for (const burst of bursts) await Promise.all(burst.map((ch) => apply(c, ch)));
          const memory = c.all();
          await store.close();
          const again = await place.open();
          expect(again.collection(things(kind)).all()).toEqual(memory);
          await again.close();
        }),
        { numRuns: 15 },
      );
    });
  });
}
