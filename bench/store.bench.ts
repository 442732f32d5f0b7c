/**
 * The store as history grows: with 100,000 generation records in a log collection, the cost of one insert, one
 * update and one history page, against a naive baseline (every record in one lowdb JSONFile, rewritten per write).
 * Then saved workflows: the cost of saving a small workflow with 28 MB of workflows stored, against the same in an
 * empty store, and against the layout they had before (a document collection rewritten whole per change).
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { z } from 'zod';
import { BUILTIN_WORKFLOWS, defineCollection, LowdbStore, ManualClock, WorkflowLibrary, WorkflowRecord } from '@comfy-vast/core';

const RECORDS = 100_000;
const SAMPLES = 1_000;
const BASELINE_SAMPLES = 5;
const RARE_USER = 7777;
const WARM_UP = 200;

const Generation = z.object({
  id: z.number().int().positive(),
  userId: z.number().int(),
  serverId: z.number().int(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  workflow: z.string(),
  prompt: z.string(),
  images: z.array(z.string()),
  createdAt: z.string(),
});
type Generation = z.infer<typeof Generation>;
export const generations = defineCollection({ name: 'generations', schema: Generation, kind: 'log' });

export function generation(n: number): Omit<Generation, 'id'> {
  return {
    // One user in 997 records is a rare one: their page walks half the history.
    userId: n % 997 === 0 ? RARE_USER : n % 20,
    serverId: n % 5,
    status: 'completed',
    workflow: 'txt2img-sdxl',
    prompt: `a lighthouse on a cliff at dusk, oil painting, variation ${n}`,
    images: [`outputs/${n}/ComfyUI_00001_.png`],
    createdAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  };
}

export async function timed(count: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (v: number) => `${v.toFixed(3)} ms`;

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-bench-store-'));
  try {
    let store = await LowdbStore.open({ dir: join(dir, 'data') });
    let c = store.collection(generations);
    const seedStart = performance.now();
    for (let n = 0; n < RECORDS; n += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => c.insert(generation(n + i))));
    }
    await store.close();
    console.log(`seeded ${RECORDS} records in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (bursts of 1000)`);

    const openStart = performance.now();
    store = await LowdbStore.open({ dir: join(dir, 'data') });
    c = store.collection(generations);
    console.log(`open + load + validate ${c.count()} records: ${ms(performance.now() - openStart)}`);

    // Right after open the collector reclaims what loading left behind: measured apart from the steady state.
    const afterOpen = await timed(WARM_UP, (i) => c.insert(generation(RECORDS + i)));
    const inserts = await timed(SAMPLES, (i) => c.insert(generation(RECORDS + WARM_UP + i)));
    const updates = await timed(SAMPLES, (i) => c.update(1 + ((i * 7919) % RECORDS), { status: 'failed' }));
    const where = (g: Generation) => g.serverId === 3 && g.userId === 13;
    const firstPages = await timed(SAMPLES, () => c.page({ where, limit: 50 }));
    const cursor = c.page({ where, limit: 50 }).nextCursor;
    const laterPages = await timed(SAMPLES, () => c.page({ where, limit: 50, cursor }));
    const rarePages = await timed(SAMPLES, () => c.page({ where: (g) => g.userId === RARE_USER, limit: 50 }));
    await store.close();

    // The floor under any durable write on this disk: one appended line and its fdatasync, nothing else.
    const raw = await open(join(dir, 'fsync-floor'), 'a');
    const floor = await timed(SAMPLES, async () => {
      await raw.writeFile(`${JSON.stringify({ op: 'put', record: { ...generation(0), id: 1 } })}\n`);
      await raw.datasync();
    });
    await raw.close();
    console.log(`disk floor   p50 ${ms(pct(floor, 50))}  p99 ${ms(pct(floor, 99))}  (append one line + fdatasync, no store)`);
    console.log(`first writes p50 ${ms(pct(afterOpen, 50))}  p99 ${ms(pct(afterOpen, 99))}  (the ${WARM_UP} inserts right after open)`);
    console.log(`log insert   p50 ${ms(pct(inserts, 50))}  p99 ${ms(pct(inserts, 99))}  (fsynced, ${SAMPLES} samples)`);
    console.log(`log update   p50 ${ms(pct(updates, 50))}  p99 ${ms(pct(updates, 99))}`);
    console.log(`history page p50 ${ms(pct(firstPages, 50))}  p99 ${ms(pct(firstPages, 99))}  (50 newest of one server and user)`);
    console.log(`next page    p50 ${ms(pct(laterPages, 50))}  p99 ${ms(pct(laterPages, 99))}  (with cursor)`);
    console.log(`rare user    p50 ${ms(pct(rarePages, 50))}  p99 ${ms(pct(rarePages, 99))}  (50 newest of a user with 1 record in 997)`);

    const records: Generation[] = Array.from({ length: RECORDS }, (_, i) => ({ ...generation(i), id: i + 1 }));
    const naive = new Low(new JSONFile<{ collections: { generations: Generation[] } }>(join(dir, 'db.json')), { collections: { generations: records } });
    await naive.write();
    const baseline = await timed(BASELINE_SAMPLES, async (i) => {
      naive.data.collections.generations.push({ ...generation(RECORDS + i), id: RECORDS + i + 1 });
      await naive.write();
    });
    console.log(`baseline insert (one JSONFile, whole file per write, no fsync) p50 ${ms(pct(baseline, 50))}  p99 ${ms(pct(baseline, 99))}  (${BASELINE_SAMPLES} samples)`);
    console.log(`ratio baseline / log insert at p50: ${(pct(baseline, 50) / pct(inserts, 50)).toFixed(0)}x`);
    await workflowSaves(dir);
    // fsync tails grow with whatever else the machine is doing: the figures mean little without this.
    console.log(`load average during the run: ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const STORED_WORKFLOW_BYTES = 28e6;
const WORKFLOW_PADDING = 100 * 1024;
const WORKFLOW_SAMPLES = 200;
const DOCUMENT_SAMPLES = 5;
const USERS = 10;
const sdxl = BUILTIN_WORKFLOWS.find((w) => w.id === 1)!.workflow as Record<string, unknown>;

async function openLibrary(dir: string): Promise<{ store: LowdbStore; workflows: WorkflowLibrary }> {
  const store = await LowdbStore.open({ dir });
  const workflows = new WorkflowLibrary({ store, clock: new ManualClock(0), quota: { count: 1e6, bytes: 1e12 } });
  await workflows.seedBuiltins();
  return { store, workflows };
}

/** Saving one small workflow (about 10 KB), awaited on its own. */
const saveSmall = (workflows: WorkflowLibrary, i: number) => workflows.create(1 + (i % USERS), { name: `small ${i}`, workflow: sdxl });

async function workflowSaves(root: string): Promise<void> {
  // 28 MB of saved workflows of about 110 KB each, spread over ten users, written in bursts; then reopened.
  const full = join(root, 'workflows-full');
  const seeding = await openLibrary(full);
  const padded = { ...sdxl, extra: { note: 'x'.repeat(WORKFLOW_PADDING) } };
  const storedBytes = () => Array.from({ length: USERS }, (_, u) => seeding.workflows.usage(u + 1).bytes).reduce((a, b) => a + b, 0);
  for (let n = 0; storedBytes() < STORED_WORKFLOW_BYTES; n += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => seeding.workflows.create(1 + ((n + i) % USERS), { name: `big ${n + i}`, workflow: padded })));
  }
  const stored = storedBytes();
  const records = seeding.store.collection(defineCollection({ name: 'workflows', schema: WorkflowRecord, kind: 'log' })).all();
  await seeding.store.close();

  // Saves to the full and to an empty store alternate, so that both see the same disk and the same machine load.
  const loaded = await openLibrary(full);
  const empty = await openLibrary(join(root, 'workflows-empty'));
  // The first saves compile the workflow analysis: left out of both figures alike.
  for (let i = 0; i < 20; i++) {
    await saveSmall(loaded.workflows, i);
    await saveSmall(empty.workflows, i);
  }
  const emptyTimes: number[] = [];
  const loadedTimes: number[] = [];
  for (let i = 0; i < WORKFLOW_SAMPLES; i++) {
    emptyTimes.push(...(await timed(1, () => saveSmall(empty.workflows, i))));
    loadedTimes.push(...(await timed(1, () => saveSmall(loaded.workflows, i))));
  }
  emptyTimes.sort((a, b) => a - b);
  loadedTimes.sort((a, b) => a - b);
  await Promise.all([loaded.store.close(), empty.store.close()]);

  // The layout before: the same records in a document collection, the whole file rewritten per save.
  const old = await LowdbStore.open({ dir: join(root, 'workflows-document') });
  const asDocument = old.collection(defineCollection({ name: 'workflows', schema: WorkflowRecord, kind: 'document' }));
  await Promise.all(records.map(({ id: _id, ...record }) => asDocument.insert(record)));
  const { id: _id, ...small } = { ...records[0]!, name: 'small', workflow: sdxl };
  const document = await timed(DOCUMENT_SAMPLES, () => asDocument.insert(small));
  await old.close();

  const mb = `${(stored / 1e6).toFixed(1)} MB`;
  console.log(`workflow save, empty store   p50 ${ms(pct(emptyTimes, 50))}  p99 ${ms(pct(emptyTimes, 99))}  (${WORKFLOW_SAMPLES} samples, alternating with the next line)`);
  console.log(`workflow save, ${mb} stored  p50 ${ms(pct(loadedTimes, 50))}  p99 ${ms(pct(loadedTimes, 99))}  (${records.length} workflows)`);
  console.log(`workflow save, ${mb} as before (one document rewritten per save)  p50 ${ms(pct(document, 50))}  p99 ${ms(pct(document, 99))}  (${DOCUMENT_SAMPLES} samples)`);
  console.log(`ratio ${mb} stored / empty store at p50: ${(pct(loadedTimes, 50) / pct(emptyTimes, 50)).toFixed(2)}x; as before / now: ${(pct(document, 50) / pct(loadedTimes, 50)).toFixed(0)}x`);
}
