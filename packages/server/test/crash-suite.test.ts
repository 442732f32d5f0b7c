import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { run, type Run } from './cli-process.js';
import { ADMIN_TOKEN, until } from './helpers.js';

/**
 * The crash suite: a server process, killed with SIGKILL at random points of its generations and started again on
 * the same data directory, round after round. After each restart every generation ever started has ended,
 * `completed` with its image or `failed` with a reason, within one reconcile; none is completed twice; the GPU
 * server is still there. The rounds are shared between a simulated GPU server (whose ComfyUI dies with the process)
 * and one rented from a fake Vast.ai that outlives it (whose ComfyUI finishes what it was given, as a rented box
 * does). COMFY_VAST_CRASH_ROUNDS sets the rounds, COMFY_VAST_CRASH_SEED replays a run.
 */
const ROUNDS = Number(process.env.COMFY_VAST_CRASH_ROUNDS ?? 20);
const SEED = Number(process.env.COMFY_VAST_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** How long a restarted server may take to settle every generation: one reconcile, with room for a loaded machine. */
const SETTLE_MS = 15_000;
/** Kills land from the moment the generation is accepted to a little after the longest one ends. */
const MAX_KILL_DELAY_MS = 1_200;

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Item = Awaited<ReturnType<ApiClient['listGenerations']>>[number];
/** `resumed` counts the generations completed by a later process than the one killed while they ran. */
type Figures = { rounds: number; generations: number; completed: number; resumed: number; failed: number; duplicated: number; stuck: number };

const children: Run[] = [];
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const child of children) child.child.kill('SIGKILL');
  for (const fn of cleanup.reverse()) await fn();
});

/** Every generation of the server, newest first. */
async function history(api: ApiClient, serverId: number): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: number | undefined;
  for (;;) {
    const page = await api.listGenerations({ params: { serverId }, query: { limit: 200, ...(cursor === undefined ? {} : { cursor }) } });
    items.push(...page);
    if (page.length < 200) return items;
    cursor = page.at(-1)!.id;
  }
}

const settled = (g: Item) => g.status !== 'queued' && g.status !== 'executing';

const describeFigures = (f: Figures) =>
  `${f.rounds} rounds, ${f.generations} generations, ${f.completed} completed (${f.resumed} after a restart), ${f.failed} failed, ${f.duplicated} duplicated, ${f.stuck} stuck`;

/** Runs `rounds` rounds against one data directory: start generations, kill at a random point, restart, check. */
async function crashRounds(label: string, env: Record<string, string>, rounds: number, random: () => number): Promise<Figures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-crash-'));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  let current: Run;
  const serve = async (): Promise<{ url: string; api: ApiClient }> => {
    current = run(['serve', '--data-dir', dataDir], {
      COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN,
      // Generations start faster than any user would: no limit may refuse one.
      COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: 1_000_000 }, generations: { minute: 10_000, hour: 10_000, day: 10_000 } }),
      ...env,
    });
    children.push(current);
    const url = await current.url;
    return { url, api: createClient({ baseUrl: url, token: ADMIN_TOKEN }) };
  };
  const kill = async () => {
    current.child.kill('SIGKILL');
    await current.exit;
  };

  const figures: Figures = { rounds: 0, generations: 0, completed: 0, resumed: 0, failed: 0, duplicated: 0, stuck: 0 };
  /** Ended generations as first seen: an ended generation never changes again. */
  const ended = new Map<number, Item>();
  let { url, api } = await serve();
  try {
    const created = await api.createServer({ body: { name: `crash suite ${label}`, gpu: 'RTX 4090' } });
    const serverId = created.id;
    await until(() => api.getServer({ params: { id: serverId } }), (s) => s.status === 'running' && s.isLaunched);

    for (let round = 1; round <= rounds; round++) {
      const count = 1 + Math.floor(random() * 2);
      for (let i = 0; i < count; i++) {
        const steps = 2 + Math.floor(random() * 20);
        await api.generate({ params: { serverId }, body: { prompt: `round ${round}.${i}`, parameters: { steps, seed: round * 10 + i } } });
        figures.generations++;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * MAX_KILL_DELAY_MS)));
      const killedAt = Date.now();
      await kill();
      ({ url, api } = await serve());
      figures.rounds++;

      const server = await api.getServer({ params: { id: serverId } });
      expect(server.status, `${label}, round ${round}: the GPU server survives the restart`).toBe('running');
      const items = await until(() => history(api, serverId), (list) => list.every(settled), SETTLE_MS).catch(() => history(api, serverId));
      figures.stuck += items.filter((g) => !settled(g)).length;
      expect(items, `${label}, round ${round}: every generation ever started is listed`).toHaveLength(figures.generations);
      for (const g of items.filter(settled)) {
        const before = ended.get(g.id);
        if (before) {
          if (JSON.stringify(before) !== JSON.stringify(g)) figures.duplicated++;
          continue;
        }
        ended.set(g.id, g);
        if (g.status === 'completed') {
          figures.completed++;
          if (Date.parse(g.completedAt!) > killedAt) figures.resumed++;
          if (g.imageUrls.length !== 1) figures.duplicated++;
          const image = await fetch(`${url}${g.imageUrls[0]}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
          expect(image.headers.get('content-type'), `generation ${g.id}: its image is served`).toBe('image/png');
          await image.arrayBuffer();
        } else {
          figures.failed++;
          expect(g.status, `generation ${g.id} was never cancelled`).toBe('failed');
          expect(g.error?.details, `generation ${g.id} failed with a reason`).toMatch(/\w/);
        }
      }
    }
  } finally {
    await kill();
    console.log(`crash suite (${label}): ${describeFigures(figures)}`);
  }
  return figures;
}

describe('crash suite', () => {
  it(`ends every generation across ${ROUNDS} SIGKILLs at random points`, async () => {
    console.log(`crash suite: seed ${SEED} (COMFY_VAST_CRASH_SEED=${SEED} replays it)`);
    const vast: FakeVast = await startFakeVast({ speed: 100 });
    cleanup.push(() => vast.close());
    // The two run side by side, each on its own data directory and its own stream of the seed.
    const [rented, simulated] = await Promise.all([
      crashRounds('fake Vast.ai', { COMFY_VAST_PROVIDER: 'vast', VAST_API_KEY: vast.apiKey, VAST_API_URL: vast.url, COMFY_VAST_POLL_SECONDS: '1' }, Math.floor(ROUNDS / 2), seededRandom(SEED)),
      crashRounds('simulated', { COMFY_VAST_PROVIDER: 'simulated', COMFY_VAST_SIMULATION_SPEED: '100' }, Math.ceil(ROUNDS / 2), seededRandom(SEED + 1)),
    ]);
    const total = Object.fromEntries(Object.keys(rented).map((k) => [k, rented[k as keyof Figures] + simulated[k as keyof Figures]])) as Figures;
    console.log(`crash suite: ${describeFigures(total)} (seed ${SEED})`);
    expect(total).toMatchObject({ rounds: ROUNDS, duplicated: 0, stuck: 0 });
    expect(total.completed + total.failed).toBe(total.generations);
    // A rented server's ComfyUI outlives our kills: every generation given to it completes, after a restart if need be.
    expect(rented.completed).toBe(rented.generations);
  }, 60_000 + ROUNDS * 10_000);
});
