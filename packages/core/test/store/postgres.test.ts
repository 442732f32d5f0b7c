import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ComfyVast } from '../../src/comfy-vast.js';
import { defineCollection, PostgresStore, postgresMigrations } from '../../src/store/index.js';
import { freePort } from '../helpers/free-port.js';
import { postgresHarness } from './helpers/postgres.js';

const h = postgresHarness();

const Thing = z.object({ id: z.number().int().positive(), tag: z.number().int() });
const things = defineCollection({ name: 'things', schema: Thing, kind: 'log' });

describe('PostgresStore', () => {
  it('migrates a schema once when several processes start at the same time', async () => {
    const schema = h.schema();
    const stores = await Promise.all([h.open({ schema }), h.open({ schema }), h.open({ schema })]);
    expect(stores).toHaveLength(3);
    const applied = await h.query<{ version: number }>(`SELECT version FROM ${pg.escapeIdentifier(schema)}._migrations ORDER BY version`);
    expect(applied.rows.map((r) => r.version)).toEqual(postgresMigrations.map((m) => m.version));
  });

  it('has an index for each query named for the collections of core', async () => {
    const schema = h.schema();
    await h.open({ schema });
    const s = pg.escapeIdentifier(schema);
    // The plan each query would have on a large table: the planner is told not to scan whole tables.
    const plan = async (query: string): Promise<string> => {
      await h.query('SET enable_seqscan = off');
      try {
        return (await h.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await h.query('RESET enable_seqscan');
      }
    };
    const userId = `((data->>'userId')::bigint)`;
    const serverId = `((data->>'serverId')::bigint)`;
    expect(await plan(`SELECT data FROM ${s}.generations WHERE ${userId} = 1 AND ${serverId} = 2 AND id < 500 ORDER BY id DESC LIMIT 50`)).toContain('generations_history');
    expect(await plan(`SELECT data FROM ${s}.generations WHERE ${serverId} = 2 ORDER BY id DESC LIMIT 1`)).toContain('generations_by_server');
    expect(await plan(`SELECT data FROM ${s}.generations WHERE (data->>'status') IN ('queued', 'executing') AND ${userId} = 1`)).toContain('generations_active');
    expect(await plan(`SELECT data FROM ${s}.scheduler_history WHERE ${serverId} = 2 ORDER BY id DESC LIMIT 50`)).toContain('scheduler_history_by_server');
    expect(
      await plan(`SELECT data FROM ${s}.schedules WHERE (data->>'autoStart') = 'true' OR (data->>'autoStop') = 'true' OR (data->>'idleStopMinutes') IS NOT NULL`),
    ).toContain('schedules_automatic');
    expect(await plan(`SELECT data FROM ${s}.server_cost_events WHERE ${serverId} = 2 ORDER BY id`)).toContain('server_cost_events_by_server');
    expect(await plan(`SELECT data FROM ${s}.tokens WHERE ${userId} = 1`)).toContain('tokens_by_user');
  });

  it('refuses a change made on a record another process changed since, and shows what that process wrote', async () => {
    const schema = h.schema();
    const a = await h.open({ schema });
    await a.collection(things).insert({ tag: 1 });
    await a.collection(things).insert({ tag: 1 });
    const b = await h.open({ schema });
    const [ca, cb] = [a.collection(things), b.collection(things)];
    const table = `${pg.escapeIdentifier(schema)}.things`;

    // Written behind the stores' backs, as a process whose change B has not heard of yet.
    await h.query(`UPDATE ${table} SET data = '{"id":1,"tag":2}', version = version + 1 WHERE id = 1`);
    await expect(cb.update(1, { tag: 3 })).rejects.toMatchObject({ code: 'CONFLICT', details: { collection: 'things' } });
    expect(cb.get(1)).toEqual({ id: 1, tag: 2 });
    // Now that it knows the record as it is, the same change goes through.
    expect(await cb.update(1, { tag: 3 })).toEqual({ id: 1, tag: 3 });

    await h.query(`DELETE FROM ${table} WHERE id = 2`);
    await expect(cb.update(2, { tag: 4 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(cb.get(2)).toBeUndefined();

    // Each store hands out ids from a block of 100 it reserved: inserts made at the same time never collide.
    expect((await ca.insert({ tag: 5 })).id).toBe(3);
    expect((await cb.insert({ tag: 6 })).id).toBe(101);

    const rows = await h.query<{ id: number; data: unknown; version: number }>(`SELECT id, data, version FROM ${pg.escapeIdentifier(schema)}.things ORDER BY id`);
    expect(rows.rows.map((r) => [Number(r.id), r.data, r.version])).toEqual([
      [1, { id: 1, tag: 3 }, 3],
      [3, { id: 3, tag: 5 }, 1],
      [101, { id: 101, tag: 6 }, 1],
    ]);
  });

  it('refuses a batch whole when one of its version checks fails', async () => {
    const schema = h.schema();
    const store = await h.open({ schema });
    const c = store.collection(things);
    await c.insert({ tag: 1 });
    // Written behind the store's back, as a process whose change it has not heard of yet.
    await h.query(`UPDATE ${pg.escapeIdentifier(schema)}.things SET data = '{"id":1,"tag":2}', version = version + 1 WHERE id = 1`);
    const batch = await Promise.allSettled([c.insert({ tag: 3 }), c.update(1, { tag: 4 })]);
    expect(batch.map((r) => r.status === 'rejected' && (r.reason as { code: string }).code)).toEqual(['CONFLICT', 'CONFLICT']);
    expect(c.all()).toEqual([{ id: 1, tag: 2 }]);
    const rows = await h.query<{ data: unknown }>(`SELECT data FROM ${pg.escapeIdentifier(schema)}.things`);
    expect(rows.rows.map((r) => r.data)).toEqual([{ id: 1, tag: 2 }]);
  });

  it('writes a batch that spans records in one transaction: all of it or, when the database refuses a part, none', async () => {
    const schema = h.schema();
    const store = await h.open({ schema });
    const c = store.collection(things);
    await c.insert({ tag: 1 });
    await h.query(`ALTER TABLE ${pg.escapeIdentifier(schema)}.things ADD CONSTRAINT no_thirteen CHECK ((data->>'tag')::int <> 13)`);

    const results = await Promise.allSettled([c.update(1, { tag: 2 }), c.insert({ tag: 3 }), c.insert({ tag: 13 }), c.delete(1)]);
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'STORE_ERROR', details: { sqlState: '23514' } } });
    }
    expect(c.all()).toEqual([{ id: 1, tag: 1 }]);
    const rows = await h.query<{ data: unknown }>(`SELECT data FROM ${pg.escapeIdentifier(schema)}.things`);
    expect(rows.rows.map((r) => r.data)).toEqual([{ id: 1, tag: 1 }]);
    // The store goes on: the next write is made.
    expect(await c.update(1, { tag: 4 })).toEqual({ id: 1, tag: 4 });
  });

  it('says when PostgreSQL cannot be reached, without the password of the URL', async () => {
    const port = await freePort();
    const error = await PostgresStore.open({ url: `postgres://comfy:s3cret-pass@127.0.0.1:${port}/comfy`, schema: h.schema() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_ERROR', details: { errno: 'ECONNREFUSED' } });
    expect((error as Error).message).toMatch(/refused the connection/);
    expect(JSON.stringify({ message: (error as Error).message, details: (error as { details: unknown }).details })).not.toContain('s3cret');
  });

  it('refuses a schema written by a newer version, leaving it as it is', async () => {
    const schema = h.schema();
    await (await h.open({ schema })).close();
    await h.query(`INSERT INTO ${pg.escapeIdentifier(schema)}._migrations (version, description, applied_at) VALUES (99, 'from the future', now())`);
    await expect(h.open({ schema })).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(/version 99, written by a newer comfy-vast/) });
    const applied = await h.query<{ version: number }>(`SELECT version FROM ${pg.escapeIdentifier(schema)}._migrations ORDER BY version`);
    expect(applied.rows.map((r) => r.version)).toEqual([...postgresMigrations.map((m) => m.version), 99]);
  });

  it('removes a named value set to undefined', async () => {
    const schema = h.schema();
    const store = await h.open({ schema });
    await store.setValue('k', { a: 1 });
    await store.setValue('k', undefined);
    await store.close();
    expect((await h.open({ schema })).getValue('k')).toBeUndefined();
    expect((await h.query(`SELECT key FROM ${pg.escapeIdentifier(schema)}._values`)).rows).toEqual([]);
  });

  it("keeps the facade's records: a user and a saved workflow survive a reopen, the workflow's keys in the order written", async () => {
    const schema = h.schema();
    const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-postgres-facade-'));
    try {
      const first = await ComfyVast.open({ store: await h.open({ schema }), dataDir });
      const { user, token } = await first.users.createUser('ada');
      const workflow = { last_node_id: 2, nodes: [{ id: 1, type: 'KSampler' }], links: [], '10': 'ten', '9': 'nine' };
      const saved = await first.createWorkflow(user.id, { name: 'portrait', workflow });
      await first.close();

      const again = await ComfyVast.open({ store: await h.open({ schema }), dataDir });
      expect(again.users.authenticate(token.token)).toEqual(user);
      const read = again.getWorkflow(user.id, saved.id);
      expect(read).toEqual(saved);
      expect(JSON.stringify(read.workflow)).toBe(JSON.stringify(workflow));
      await again.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
