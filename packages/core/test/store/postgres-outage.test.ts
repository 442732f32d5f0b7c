import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCollection, PostgresStore } from '../../src/store/index.js';
import { startPostgres, type PrivatePostgres } from './helpers/postgres-server.js';

const Thing = z.object({ id: z.number().int().positive(), tag: z.number().int() });
const things = defineCollection({ name: 'things', schema: Thing, kind: 'document' });

// The server is stopped and started again here, so this file always runs one of its own.
let server: PrivatePostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());

describe('PostgresStore when PostgreSQL goes away', () => {
  it('rejects the writes made while it is down, keeps memory as the database holds it, and writes again once it is back', async () => {
    const store = await PostgresStore.open({ url: server.url });
    try {
      const c = store.collection(things);
      await c.insert({ tag: 1 });
      await server.restart(async () => {
        const results = await Promise.allSettled([c.update(1, { tag: 2 }), c.insert({ tag: 3 }), store.setValue('k', 1)]);
        for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'STORE_ERROR' } });
        expect(c.all()).toEqual([{ id: 1, tag: 1 }]);
        expect(store.getValue('k')).toBeUndefined();
      });
      expect(await c.update(1, { tag: 4 })).toEqual({ id: 1, tag: 4 });
      // The id the refused insert took is not given again.
      expect((await c.insert({ tag: 5 })).id).toBe(3);
    } finally {
      await store.close();
    }
    const again = await PostgresStore.open({ url: server.url });
    expect(again.collection(things).all()).toEqual([
      { id: 1, tag: 4 },
      { id: 3, tag: 5 },
    ]);
    await again.close();
  });
});
