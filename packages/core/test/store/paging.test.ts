import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryCollection, type PageOptions } from '../../src/store/index.js';
import { generation, generations, storeHarness, type Generation } from './helpers.js';

const h = storeHarness();

/** Every page of a listing, following the cursors. */
function allPages<T extends { id: number }>(c: MemoryCollection<T>, options: PageOptions<T>): T[][] {
  const pages: T[][] = [];
  let cursor: number | null = null;
  do {
    const page = c.page({ ...options, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

describe('paging', () => {
  it('pages the newest records of one user and server with a cursor, over a reloaded log', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    const c = store.collection(generations);
    for (let n = 0; n < 30; n++) await c.insert(generation(n));
    await c.delete(25);
    await store.close();

    const reloaded = (await h.open({ dir })).collection(generations);
    const where = (g: Generation) => g.userId === 1 && g.serverId === 1;
    const first = reloaded.page({ where, limit: 2 });
    // Record n + 1 belongs to user 1 on server 1 when n is a multiple of 6: ids 1, 7, 13, 19 and 25 (deleted).
    expect(first).toEqual({ items: [reloaded.get(19), reloaded.get(13)], nextCursor: 13 });
    const last = reloaded.page({ where, limit: 2, cursor: first.nextCursor });
    expect(last).toEqual({ items: [reloaded.get(7), reloaded.get(1)], nextCursor: null });
    expect(reloaded.page({ where, order: 'asc', limit: 3 })).toEqual({ items: [reloaded.get(1), reloaded.get(7), reloaded.get(13)], nextCursor: 13 });
  });

  it('matches a plain filter-and-sort under any mix of inserts, updates and deletes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), tag: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), tag: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom<'asc' | 'desc'>('asc', 'desc'), fc.integer({ min: 0, max: 3 }), (ops, limit, order, tag) => {
        const c = new MemoryCollection<{ id: number; tag: number }>('things');
        for (const o of ops) {
          const ids = c.all().map((r) => r.id);
          if (o.kind === 'insert') void c.insert({ tag: o.tag });
          else if (ids.length > 0 && o.kind === 'update') void c.update(ids[o.pick % ids.length]!, { tag: o.tag });
          else if (ids.length > 0 && o.kind === 'delete') void c.delete(ids[o.pick % ids.length]!);
        }
        const expected = c
          .filter((r) => r.tag === tag)
          .sort((a, b) => (order === 'asc' ? a.id - b.id : b.id - a.id));
        const pages = allPages(c, { where: (r) => r.tag === tag, limit, order });
        expect(pages.flat()).toEqual(expected);
        for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
        expect(c.all().map((r) => r.id)).toEqual([...c.all().map((r) => r.id)].sort((a, b) => a - b));
      }),
    );
  });

  it('puts back a record by id where it belongs in id order', () => {
    const c = new MemoryCollection('things', [{ id: 1 }, { id: 3 }, { id: 5 }]);
    c.restore(4, { id: 4 });
    c.restore(3, undefined);
    c.restore(1, { id: 1 });
    expect(c.all()).toEqual([{ id: 1 }, { id: 4 }, { id: 5 }]);
    expect(c.page({ cursor: 5, limit: 1 })).toEqual({ items: [{ id: 4 }], nextCursor: 4 });
  });
});
