import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/util/index.js';
import { defineCollection, type Collection, type RemoteChange } from '../../src/store/index.js';
import { postgresHarness } from './helpers/postgres.js';

const h = postgresHarness();

const Thing = z.object({ id: z.number().int().positive(), tag: z.number().int(), a: z.string().optional(), b: z.string().optional() });
type Thing = z.infer<typeof Thing>;
const things = defineCollection({ name: 'things', schema: Thing, kind: 'log' });
const Counter = z.object({ id: z.number().int().positive(), n: z.number().int(), pad: z.string().optional() });
const counters = defineCollection({ name: 'counters', schema: Counter, kind: 'document' });

/** Polls until `check` passes: the other store applies a change some milliseconds after it commits. */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 10 });

const ids = (c: Collection<{ id: number }>) => c.all().map((r) => r.id);

/** Two stores on one schema, as two processes would open it. */
async function pair(options: { idBlockSize?: number } = {}) {
  const schema = h.schema();
  const a = await h.open({ schema, ...options });
  const b = await h.open({ schema, ...options });
  return { schema, a, b };
}

describe('PostgresStore opened by several processes on one schema', () => {
  it('gives every insert an id of its own, increasing within each process, and shows both processes all records', async () => {
    const { a, b } = await pair();
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const made = await Promise.all([
      Promise.all(Array.from({ length: 200 }, (_, n) => ca.insert({ tag: n }))),
      Promise.all(Array.from({ length: 200 }, (_, n) => cb.insert({ tag: 1000 + n }))),
    ]);
    for (const records of made) {
      const order = records.map((r) => r.id);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    const all = made.flat();
    expect(new Set(all.map((r) => r.id)).size).toBe(400);
    const expected = [...all].sort((x, y) => x.id - y.id);
    await eventually(() => {
      expect(ca.all()).toEqual(expected);
      expect(cb.all()).toEqual(expected);
    });
    // Pages still walk the id order, with the other process's records in their place.
    expect(cb.page({ limit: 400 }).items).toEqual([...expected].reverse());
  });

  it('applies an update and a delete made by one process to the other, and says so to its listeners', async () => {
    const { a, b } = await pair();
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const first = await ca.insert({ tag: 1 });
    const second = await ca.insert({ tag: 2 });
    await eventually(() => expect(ids(cb)).toEqual([first.id, second.id]));
    const heard: RemoteChange[] = [];
    b.onRemoteChange((change) => heard.push(change));

    await ca.update(first.id, { tag: 10 });
    await ca.delete(second.id);
    await eventually(() => expect(cb.all()).toEqual([{ id: first.id, tag: 10 }]));
    expect(heard.flatMap((change) => (change.kind === 'records' ? change.ids : []))).toEqual([first.id, second.id]);
    expect(heard.every((change) => change.kind === 'records' && change.collection === 'things')).toBe(true);

    // B now holds the version A wrote: its own update of that record goes through, and A sees it.
    expect(await cb.update(first.id, { tag: 11 })).toEqual({ id: first.id, tag: 11 });
    await eventually(() => expect(ca.get(first.id)).toEqual({ id: first.id, tag: 11 }));
  });

  it('keeps the rows of a collection not asked for yet up to date, and hands them over when it is', async () => {
    const { a, b } = await pair();
    const heard: RemoteChange[] = [];
    a.onRemoteChange((change) => heard.push(change));
    const cb = b.collection(things);
    const kept = await cb.insert({ tag: 1 });
    const gone = await cb.insert({ tag: 2 });
    await cb.update(kept.id, { tag: 3 });
    await cb.delete(gone.id);
    // Changes are applied in commit order: once A has applied this one, it holds those before.
    await b.collection(counters).insert({ n: 1 });
    await eventually(() => expect(heard.map((change) => change.kind === 'records' && change.collection)).toContain('counters'));
    expect(a.collection(things).all()).toEqual([{ id: kept.id, tag: 3 }]);
    expect(a.collection(counters).all()).toEqual([{ id: 1, n: 1 }]);
  });

  it('applies named values set and removed by the other process', async () => {
    const { a, b } = await pair();
    const heard: string[] = [];
    b.onRemoteChange((change) => change.kind === 'values' && heard.push(...change.keys));
    await a.setValue('installation', { publicKey: 'pk' });
    await a.setValue('n', 1);
    await eventually(() => {
      expect(b.getValue('installation')).toEqual({ publicKey: 'pk' });
      expect(b.getValue('n')).toBe(1);
    });
    await a.setValue('n', undefined);
    await eventually(() => expect(b.getValue('n')).toBeUndefined());
    expect(heard).toEqual(['installation', 'n', 'n']);
  });

  it('refuses one of two updates made at once on the same record with CONFLICT, and both end with the one written', async () => {
    const { a, b } = await pair();
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const record = await ca.insert({ tag: 0 });
    await eventually(() => expect(cb.get(record.id)).toEqual(record));

    const heard: [RemoteChange[], RemoteChange[]] = [[], []];
    a.onRemoteChange((change) => heard[0].push(change));
    b.onRemoteChange((change) => heard[1].push(change));
    const results = await Promise.allSettled([ca.update(record.id, { a: 'A' }), cb.update(record.id, { b: 'B' })]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: { code: 'CONFLICT', details: { collection: 'things' } } });
    const written = results.find((r): r is PromiseFulfilledResult<Thing> => r.status === 'fulfilled')!.value;
    await eventually(() => {
      expect(ca.get(record.id)).toEqual(written);
      expect(cb.get(record.id)).toEqual(written);
    });
    // The refused side learnt the other's change through the refusal, and says so once, like any change it hears of.
    const loser = heard[results.findIndex((r) => r.status === 'rejected')]!;
    await eventually(() => expect(loser).toEqual([{ kind: 'records', collection: 'things', ids: [record.id] }]));
    expect(heard[results.findIndex((r) => r.status === 'fulfilled')]).toEqual([]);
  });

  it('never lets a change made on a stale record overwrite the other process’s: counting from both ends is exact', async () => {
    const { a, b } = await pair();
    const [ca, cb] = [a.collection(counters), b.collection(counters)];
    const { id } = await ca.insert({ n: 0 });
    const fillers = [await ca.insert({ n: 0 }), await cb.insert({ n: 0 })];
    await eventually(() => expect(cb.get(id)).toEqual({ id, n: 0 }));
    let conflicts = 0;
    // Read, add one, write. Each count waits in the queue behind a slow write of another record, so the other
    // process's count can arrive meanwhile: a count made on the record as it was before must then be refused.
    const count = async (c: Collection<z.infer<typeof Counter>>, filler: number) => {
      let done = 0;
      for (let round = 0; done < 30; round++) {
        const slow = c.update(filler, { pad: 'x'.repeat(200_000 + round) });
        await Promise.resolve();
        await Promise.resolve();
        const result = await Promise.allSettled([c.update(id, { n: c.get(id)!.n + 1 }), slow]);
        if (result[0].status === 'fulfilled') done++;
        else {
          expect(result[0].reason).toMatchObject({ code: 'CONFLICT' });
          conflicts++;
        }
      }
      return done;
    };
    const total = (await Promise.all([count(ca, fillers[0]!.id), count(cb, fillers[1]!.id)])).reduce((x, y) => x + y);
    expect(total).toBe(60);
    await eventually(() => {
      expect(ca.get(id)).toEqual({ id, n: 60 });
      expect(cb.get(id)).toEqual({ id, n: 60 });
    });
    const row = await h.query<{ data: unknown }>(`SELECT data FROM ${a.schema}.counters WHERE id = $1`, [id]);
    expect(row.rows[0]!.data).toEqual({ id, n: 60 });
    expect(conflicts).toBeGreaterThan(0);
  });

  it('rejects an insert that cannot get ids with STORE_ERROR, and still makes the changes made after it, in order', async () => {
    const { schema, a, b } = await pair();
    const first = await a.collection(things).insert({ tag: 1 });
    await h.query(`ALTER TABLE ${schema}._collections RENAME TO ids_away`);
    try {
      // B opens the collection now: the block it reserves at open cannot be had.
      const cb = b.collection(things);
      await eventually(() => expect(cb.get(first.id)).toEqual(first));
      const [inserted, updated] = await Promise.allSettled([cb.insert({ tag: 2 }), cb.update(first.id, { tag: 3 })]);
      expect(inserted).toMatchObject({ status: 'rejected', reason: { code: 'STORE_ERROR', details: { sqlState: '42P01' } } });
      expect(updated).toEqual({ status: 'fulfilled', value: { id: first.id, tag: 3 } });
      expect(cb.all()).toEqual([{ id: first.id, tag: 3 }]);
    } finally {
      await h.query(`ALTER TABLE ${schema}.ids_away RENAME TO _collections`);
    }
    const later = await b.collection(things).insert({ tag: 4 });
    expect(later.id).not.toBe(first.id);
    await eventually(() => expect(a.collection(things).all()).toEqual([{ id: first.id, tag: 3 }, later]));
  });

  it('tells the others of a batch too large for one notice in several', async () => {
    const { a, b } = await pair({ idBlockSize: 5000 });
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const made = await Promise.all(Array.from({ length: 2000 }, (_, n) => cb.insert({ tag: n })));
    await eventually(() => expect(ca.count()).toBe(2000));
    expect(ca.all()).toEqual(made);
  });

  it('reads a record too large to travel in its notice from the database, and applies the others from their notices', async () => {
    const { a, b } = await pair();
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const [small, large] = await Promise.all([cb.insert({ tag: 1 }), cb.insert({ tag: 2, a: 'x'.repeat(20_000) })]);
    await eventually(() => expect(ca.all()).toEqual([small, large]));
    await cb.update(large.id, { a: 'y'.repeat(20_000) });
    await cb.update(small.id, { tag: 3 });
    await eventually(() => expect(ca.all()).toEqual([{ id: small.id, tag: 3 }, { ...large, a: 'y'.repeat(20_000) }]));
  });

  it('catches up after its listening connection drops: what was written meanwhile is read again', async () => {
    const schema = h.schema();
    const clock = new ManualClock();
    const a = await h.open({ schema, clock });
    const b = await h.open({ schema });
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const [kept, gone] = [await cb.insert({ tag: 1 }), await cb.insert({ tag: 2 })];
    await eventually(() => expect(ca.all()).toHaveLength(2));
    expect(a.coherent).toBe(true);

    // The listening connections are ended by the server, as a failover or an idle timeout would; A reconnects only
    // when its clock says the backoff is over, so B's writes meanwhile are surely not heard.
    const ended = await h.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'comfy-vast changes' AND pid <> pg_backend_pid()`);
    expect(ended.rowCount).toBeGreaterThanOrEqual(2);
    await eventually(() => expect(a.coherent).toBe(false));
    const added = await Promise.all(Array.from({ length: 20 }, (_, n) => cb.insert({ tag: 100 + n })));
    await cb.update(kept.id, { tag: 5 });
    await cb.delete(gone.id);
    await b.setValue('k', 'v');
    expect(ca.all()).toEqual([kept, gone]);

    await clock.advance(100);
    await eventually(() => {
      expect(a.coherent).toBe(true);
      expect(ca.all()).toEqual([{ id: kept.id, tag: 5 }, ...added]);
      expect(a.getValue('k')).toBe('v');
    });
    // Listening again: a change made now arrives as before.
    await cb.update(kept.id, { tag: 6 });
    await eventually(() => expect(ca.get(kept.id)).toEqual({ id: kept.id, tag: 6 }));
  });
});
