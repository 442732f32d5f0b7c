/**
 * The PostgreSQL store beside the embedded one, on the same 100,000 generation records: the time to open (connect,
 * migrate, read and validate everything), one insert and one update awaited on their own, and what no client can
 * save: a bare round trip and a bare durable commit. The operations are timed in turn, sample after sample, so that
 * all of them see the same moments of the machine's load. PostgreSQL is a private server in a temporary folder with
 * fsync on (COMFY_VAST_BENCH_DATABASE_URL names another one instead).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { LowdbStore, PostgresStore, type Store } from '@comfy-vast/core';
import { startPostgres } from '../packages/core/test/store/helpers/postgres-server.js';
import { generation, generations, pct, timed } from './store.bench.js';

const RECORDS = 100_000;
const SAMPLES = 400;
const WARM_UP = 200;
const SCHEMA = 'comfy_vast_bench';

const ms = (v: number) => `${v.toFixed(3)} ms`;
const line = (label: string, sorted: number[], note = '') => console.log(`${label.padEnd(34)} p50 ${ms(pct(sorted, 50))}  p99 ${ms(pct(sorted, 99))}${note ? `  (${note})` : ''}`);

/** Seeds 100,000 records in bursts of 1,000 and closes the store. */
async function seed(name: string, open: () => Promise<Store>): Promise<void> {
  const store = await open();
  const c = store.collection(generations);
  const start = performance.now();
  for (let n = 0; n < RECORDS; n += 1000) await Promise.all(Array.from({ length: 1000 }, (_, i) => c.insert(generation(n + i))));
  await store.close();
  console.log(`${name}: seeded ${RECORDS} records in ${((performance.now() - start) / 1000).toFixed(1)} s (bursts of 1000)`);
}

async function reopen(open: () => Promise<Store>): Promise<{ store: Store; ms: number }> {
  const start = performance.now();
  const store = await open();
  store.collection(generations);
  return { store, ms: performance.now() - start };
}

/** Runs each operation once per sample, in turn; the times of each, sorted. */
async function alternating<K extends string>(operations: Record<K, (i: number) => Promise<unknown>>): Promise<Record<K, number[]>> {
  const entries = Object.entries(operations) as [K, (i: number) => Promise<unknown>][];
  const times = Object.fromEntries(entries.map(([name]) => [name, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, operation] of entries) times[name].push(...(await timed(1, () => operation(i))));
  }
  for (const list of Object.values<number[]>(times)) list.sort((a, b) => a - b);
  return times;
}

export async function run(): Promise<void> {
  const given = process.env.COMFY_VAST_BENCH_DATABASE_URL;
  const server = given ? undefined : await startPostgres({ durable: true });
  const url = given ?? server!.url;
  const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-bench-store-postgres-'));
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    const openEmbedded = () => LowdbStore.open({ dir: join(dir, 'data') });
    const openPostgres = () => PostgresStore.open({ url, schema: SCHEMA });
    await seed('embedded', openEmbedded);
    await seed('postgresql', openPostgres);
    const embedded = await reopen(openEmbedded);
    const postgres = await reopen(openPostgres);
    console.log(`open + load + validate ${RECORDS} records: embedded ${ms(embedded.ms)}, postgresql ${ms(postgres.ms)}`);
    const e = embedded.store.collection(generations);
    const p = postgres.store.collection(generations);
    // The writes right after open pay for the collector reclaiming what loading left behind: not measured.
    for (let i = 0; i < WARM_UP; i++) await Promise.all([e.insert(generation(RECORDS + i)), p.insert(generation(RECORDS + i))]);

    await admin.query(`CREATE TABLE ${SCHEMA}.bench_floor (id serial PRIMARY KEY, data json)`);
    const row = JSON.stringify({ ...generation(0), id: 1 });
    const inserts = await alternating({
      embedded: (i) => e.insert(generation(RECORDS + WARM_UP + i)),
      postgres: (i) => p.insert(generation(RECORDS + WARM_UP + i)),
      roundTrip: () => admin.query('SELECT 1'),
      commit: () => admin.query(`INSERT INTO ${SCHEMA}.bench_floor (data) VALUES ($1)`, [row]),
    });
    const updates = await alternating({
      embedded: (i) => e.update(1 + ((i * 7919) % RECORDS), { status: 'failed' }),
      postgres: (i) => p.update(1 + ((i * 7919) % RECORDS), { status: 'failed' }),
    });
    await Promise.all([embedded.store.close(), postgres.store.close()]);

    line('pg round trip (SELECT 1)', inserts.roundTrip, `${SAMPLES} samples of each, taken in turn`);
    line('commit floor (one-row INSERT)', inserts.commit, 'autocommit, no store');
    line('postgresql insert', inserts.postgres, 'one statement each');
    line('postgresql update', updates.postgres);
    line('embedded insert', inserts.embedded, 'append + fdatasync each');
    line('embedded update', updates.embedded);
    console.log(`ratio postgresql / embedded insert: p50 ${(pct(inserts.postgres, 50) / pct(inserts.embedded, 50)).toFixed(2)}x, p99 ${(pct(inserts.postgres, 99) / pct(inserts.embedded, 99)).toFixed(2)}x`);
    console.log(`load average during the run: ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
    await server?.stop();
  }
}
