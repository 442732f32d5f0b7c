import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryCollection, type PageOptions } from '../../src/store/index.js';

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

describe('MemoryCollection paging', () => {
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
