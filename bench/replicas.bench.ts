/**
 * API replicas on PostgreSQL and Redis against one embedded process, every part in its own process: generations per
 * second with the load spread over the replicas, and the latency of a generation's events from the replica that
 * follows it to a subscriber on another replica (library event there to the subscriber's process reading it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from '@comfy-vast/server/client';
import { startPostgres } from '../packages/core/test/store/helpers/postgres-server.js';
import { startPrivateRedis } from '../packages/core/test/store/helpers/redis-server.js';
import { TOKEN } from './lib/api.js';
import { startChild, type Child } from './lib/child.js';
import { record } from './lib/report.js';
import { fmt, percentile } from './lib/stats.js';

const STEPS = 10;
const SIZE = 64;
const GENERATIONS = 150;

interface Setup {
  replicas: Child[];
  urls: string[];
  serverIds: number[];
}

/** `count` API processes: the embedded default when `shared` is absent, else replicas on its database and Redis. */
async function startReplicas(count: number, comfyUrls: string[], shared?: { databaseUrl: string; redisUrl: string; imagesDir: string }): Promise<Setup> {
  const replicas: Child[] = [];
  // One after the other: the first creates the schema and the admin, the others find them.
  for (let i = 0; i < count; i++) replicas.push(await startChild('api-server', { token: TOKEN, ...shared }, { built: true }));
  const urls = await Promise.all(replicas.map((r) => r.call<string>('url')));
  const api = createClient({ baseUrl: urls[0]!, token: TOKEN });
  const serverIds: number[] = [];
  for (const [i, comfyUrl] of comfyUrls.entries()) serverIds.push((await api.createServer({ body: { name: `gpu-${i}`, comfyUrl } })).id);
  // Every replica knows the servers before the load starts.
  for (const url of urls) {
    const client = createClient({ baseUrl: url, token: TOKEN });
    for (let i = 0; (await client.listServers()).length < serverIds.length; i++) {
      if (i > 500) throw new Error(`the replica at ${url} never saw the servers`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return { replicas, urls, serverIds };
}

/**
 * Generations per second, each load process submitting its share to one replica and following it there, and the CPU
 * the API processes spent together per generation (what more cores would divide).
 */
async function throughput(setup: Setup): Promise<{ perSecond: number; lost: number; cpuMs: number }> {
  const loads = await Promise.all(setup.urls.map(() => startChild('ws-load')));
  const cpu = async () => (await Promise.all(setup.replicas.map((r) => r.call<number>('cpu')))).reduce((a, b) => a + b, 0);
  try {
    const cpuBefore = await cpu();
    const share = Math.ceil(GENERATIONS / setup.urls.length);
    const results = await Promise.all(
      loads.map((load, i) => load.call<{ seconds: number; completed: number }>('generate', { url: setup.urls[i], token: TOKEN, serverIds: setup.serverIds, total: share, steps: STEPS, size: SIZE })),
    );
    const completed = results.reduce((n, r) => n + r.completed, 0);
    const cpuMs = ((await cpu()) - cpuBefore) / completed;
    return { perSecond: completed / Math.max(...results.map((r) => r.seconds)), lost: share * setup.urls.length - completed, cpuMs };
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
}

/** One generation submitted on the first replica, its events read by a subscriber on the last one. */
async function latency(setup: Setup): Promise<{ p50: number; p99: number; events: number }> {
  const load = await startChild('ws-load');
  try {
    await load.call('open', { url: setup.urls.at(-1), token: TOKEN, count: 1 });
    const api = createClient({ baseUrl: setup.urls[0]!, token: TOKEN });
    const { generationId } = await api.generate({ params: { serverId: setup.serverIds[0]! }, body: { prompt: 'latency', parameters: { steps: 80, width: SIZE, height: SIZE } } });
    const subscribedAt = performance.timeOrigin + performance.now();
    const result = await load.call<{ last: Record<number, number> }>('fanout', { generationId, previews: false });
    const published = await setup.replicas[0]!.call<Record<string, [number, number]>>('published');
    const delays: number[] = [];
    for (const [key, [start]] of Object.entries(published)) {
      const [id, seq] = key.split(':').map(Number) as [number, number];
      if (id !== generationId || start < subscribedAt + 200 || result.last[seq] === undefined) continue;
      delays.push(result.last[seq]! - start);
    }
    return { p50: percentile(delays, 50), p99: percentile(delays, 99), events: delays.length };
  } finally {
    await load.stop();
  }
}

async function measure(label: string, count: number, comfyUrls: string[], shared?: Parameters<typeof startReplicas>[2]) {
  const setup = await startReplicas(count, comfyUrls, shared);
  try {
    const t = await throughput(setup);
    const l = await latency(setup);
    console.log(`  ${label.padEnd(34)} ${fmt(t.perSecond)} generations/s (${t.lost} lost), ${fmt(t.cpuMs)} ms of API CPU each; events to a subscriber${count > 1 ? ' on another replica' : ''}: p50 ${fmt(l.p50, 2)} ms, p99 ${fmt(l.p99, 2)} ms (${l.events} events)`);
    return { ...t, latency: l };
  } finally {
    await Promise.all(setup.replicas.map((r) => r.stop()));
  }
}

export async function run(): Promise<void> {
  const postgres = await startPostgres();
  const redis = await startPrivateRedis();
  const imagesDir = await mkdtemp(join(tmpdir(), 'comfy-vast-bench-images-'));
  const comfy = await startChild('fake-comfy', { count: 3, nodeMs: 0, stepMs: 10, previews: false });
  try {
    const comfyUrls = await comfy.call<string[]>('urls');
    // A database per configuration, and a Redis database each, so that none starts on another's records.
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    for (const db of ['replicas_one', 'replicas_three']) await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const database = (name: string) => postgres.url.replace(/\/[^/]*$/, `/${name}`);
    console.log(`3 fake ComfyUIs (${STEPS} steps at 10 ms, ${SIZE}x${SIZE}); ${GENERATIONS} generations spread over the API processes, each followed on the process that got it:`);
    const embedded = await measure('1 process, embedded store', 1, comfyUrls);
    const one = await measure('1 replica, PostgreSQL + Redis', 1, comfyUrls, { databaseUrl: database('replicas_one'), redisUrl: `${redis.url}/1`, imagesDir });
    const three = await measure('3 replicas, PostgreSQL + Redis', 3, comfyUrls, { databaseUrl: database('replicas_three'), redisUrl: `${redis.url}/2`, imagesDir });
    for (const [name, m] of [['one', one], ['three', three]] as const) {
      record({ name: `replicas.${name}.per-second`, value: m.perSecond, unit: '/s', baseline: { name: 'embedded, one process', value: embedded.perSecond }, ratio: m.perSecond / embedded.perSecond, goal: name === 'three' ? 'no loss against one replica' : undefined, met: name === 'three' ? m.perSecond >= one.perSecond * 0.95 && m.lost === 0 : undefined });
      record({ name: `replicas.${name}.cpu-per-generation`, value: m.cpuMs, unit: 'ms', baseline: { name: 'embedded, one process', value: embedded.cpuMs }, ratio: m.cpuMs / embedded.cpuMs });
      record({ name: `replicas.${name}.event.p99`, value: m.latency.p99, unit: 'ms', baseline: { name: 'embedded, same process', value: embedded.latency.p99 }, ratio: m.latency.p99 / embedded.latency.p99, goal: name === 'three' ? '<= 20 ms across replicas' : undefined, met: name === 'three' ? m.latency.p99 <= 20 : undefined });
    }
    console.log(`  ratios to one embedded process: 1 replica ${fmt(one.perSecond / embedded.perSecond, 2)}x, 3 replicas ${fmt(three.perSecond / embedded.perSecond, 2)}x (3 against 1 replica: ${fmt(three.perSecond / one.perSecond, 2)}x)`);
  } finally {
    await comfy.stop();
    await redis.stop();
    await postgres.stop();
    await rm(imagesDir, { recursive: true, force: true });
  }
}
