/**
 * The PostgreSQL store beside the embedded one, on the same 100,000 generation records: the time to open (connect,
 * migrate, read and validate everything), one insert and one update awaited on their own, and what no client can
 * save: a bare round trip and a bare durable commit. PostgreSQL is a private server in a temporary folder with
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
const SAMPLES = 1_000;
const WARM_UP = 200;
const SCHEMA = 'comfy_vast_bench';

const ms = (v: number) => `${v.toFixed(3)} ms`;
const line = (label: string, sorted: number[], note = '') => console.log(`${label.padEnd(34)} p50 ${ms(pct(sorted, 50))}  p99 ${ms(pct(sorted, 99))}${note ? `  (${note})` : ''}`);

interface Figures {
  open: number;
  inserts: number[];
  updates: number[];
}

/** Seeds 100,000 records in bursts of 1,000, reopens, then times single inserts and updates. */
async function measure(name: string, open: () => Promise<Store>): Promise<Figures> {
  let store = await open();
  let c = store.collection(generations);
  const seedStart = performance.now();
  for (let n = 0; n < RECORDS; n += 1000) await Promise.all(Array.from({ length: 1000 }, (_, i) => c.insert(generation(n + i))));
  await store.close();
  console.log(`${name}: seeded ${RECORDS} records in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (bursts of 1000)`);
  const openStart = performance.now();
  store = await open();
  c = store.collection(generations);
  const opened = performance.now() - openStart;
  await timed(WARM_UP, (i) => c.insert(generation(RECORDS + i)));
  const inserts = await timed(SAMPLES, (i) => c.insert(generation(RECORDS + WARM_UP + i)));
  const updates = await timed(SAMPLES, (i) => c.update(1 + ((i * 7919) % RECORDS), { status: 'failed' }));
  await store.close();
  return { open: opened, inserts, updates };
}

/** A query through `pg` that does nothing, and a one-row durable commit with no store around it. */
async function floors(url: string): Promise<{ roundTrip: number[]; commit: number[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const roundTrip = await timed(SAMPLES, () => client.query('SELECT 1'));
    await client.query(`CREATE TABLE ${SCHEMA}.bench_floor (id serial PRIMARY KEY, data json)`);
    const row = JSON.stringify({ ...generation(0), id: 1 });
    const commit = await timed(SAMPLES, () => client.query(`INSERT INTO ${SCHEMA}.bench_floor (data) VALUES ($1)`, [row]));
    return { roundTrip, commit };
  } finally {
    await client.end();
  }
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
    const embedded = await measure('embedded', () => LowdbStore.open({ dir: join(dir, 'data') }));
    const postgres = await measure('postgresql', () => PostgresStore.open({ url, schema: SCHEMA }));
    const { roundTrip, commit } = await floors(url);

    console.log(`open + load + validate ${RECORDS} records: embedded ${ms(embedded.open)}, postgresql ${ms(postgres.open)}`);
    line('pg round trip (SELECT 1)', roundTrip, `${SAMPLES} samples`);
    line('commit floor (one-row INSERT)', commit, 'autocommit, fsync on');
    line('postgresql insert', postgres.inserts, 'one transaction each');
    line('postgresql update', postgres.updates);
    line('embedded insert', embedded.inserts, 'append + fdatasync each');
    line('embedded update', embedded.updates);
    console.log(`ratio postgresql / embedded insert: p50 ${(pct(postgres.inserts, 50) / pct(embedded.inserts, 50)).toFixed(2)}x, p99 ${(pct(postgres.inserts, 99) / pct(embedded.inserts, 99)).toFixed(2)}x`);
    console.log(`load average during the run: ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
    await server?.stop();
  }
}
