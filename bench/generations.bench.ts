/**
 * Generations through the real API server: how long one generation's events take to reach 1,000 WebSocket
 * subscribers (against a single subscriber in the same run), and generations per second across 10 fake ComfyUI
 * servers (against one server in the same run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { resolveConfig, startServer, type RunningServer } from '@comfy-vast/server';
import WebSocket from 'ws';

const TOKEN = 'bench-admin-token-0123456789abcdef0123456789';

async function withServer<T>(fn: (server: RunningServer, api: ApiClient) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-bench-'));
  const config = resolveConfig({ PORT: '0', COMFY_VAST_DATA: dataDir, COMFY_VAST_ADMIN_TOKEN: TOKEN, COMFY_VAST_LOG_LEVEL: 'silent', COMFY_VAST_LIMITS: JSON.stringify({ api: { minute: 1_000_000 }, generations: { minute: 1_000_000 } }) });
  const server = await startServer(config, { print: () => {} });
  try {
    return await fn(server, createClient({ baseUrl: server.url, token: TOKEN }));
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function attach(api: ApiClient, comfy: FakeComfy, name: string): Promise<number> {
  return (await api.createServer({ body: { name, comfyUrl: comfy.url } })).id;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Latency from the service emitting an event to the last of `subscribers` sockets receiving it. */
async function fanOut(subscribers: number): Promise<{ p50: number; p99: number; events: number }> {
  return withServer(async (server, api) => {
    const comfy = await startFakeComfy({ timing: { nodeMs: 5, stepMs: 5 } });
    try {
      const serverId = await attach(api, comfy, 'fan-out');
      const sockets = await Promise.all(
        Array.from({ length: subscribers }, () => new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/ws?token=${TOKEN}`);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        })),
      );
      const emitted = new Map<number, number>();
      const lastArrival = new Map<number, number>();
      let completed = 0;
      const allDone = new Promise<void>((resolve) => {
        for (const ws of sockets) {
          ws.on('message', (data) => {
            const m = JSON.parse(String(data)) as { type: string; seq?: number };
            if (m.seq === undefined) return;
            lastArrival.set(m.seq, performance.now());
            if (m.type === 'complete' && ++completed === subscribers) resolve();
          });
        }
      });
      server.comfyVast.on('generation:event', (e) => emitted.set(e.seq, performance.now()));
      // Subscribing needs the generation's id, so it runs slowly enough for every socket to subscribe first.
      const { generationId } = await api.generate({ params: { serverId }, body: { prompt: 'fan-out', parameters: { steps: 60 } } });
      for (const ws of sockets) ws.send(JSON.stringify({ type: 'subscribe', generationId }));
      await allDone;
      for (const ws of sockets) ws.close();
      const latencies = [...emitted].filter(([seq]) => lastArrival.has(seq)).map(([seq, at]) => lastArrival.get(seq)! - at).filter((ms) => ms >= 0);
      return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), events: latencies.length };
    } finally {
      await comfy.close();
    }
  });
}

/** Generations per second with `servers` fake ComfyUIs sharing `total` generations. */
async function throughput(servers: number, total: number): Promise<number> {
  return withServer(async (_server, api) => {
    const comfies = await Promise.all(Array.from({ length: servers }, () => startFakeComfy({ timing: { nodeMs: 10, stepMs: 10 }, previews: false })));
    try {
      const ids = await Promise.all(comfies.map((c, i) => attach(api, c, `gpu-${i}`)));
      const started = performance.now();
      const generations = await Promise.all(Array.from({ length: total }, (_, i) => api.generate({ params: { serverId: ids[i % ids.length]! }, body: { prompt: `n${i}`, parameters: { steps: 10 } } })));
      for (const g of generations) {
        for (;;) {
          const p = await api.getProgress({ params: { generationId: g.generationId } });
          if (p.status === 'completed') break;
          if (p.status === 'failed' || p.status === 'cancelled') throw new Error(`generation ${g.generationId} ${p.status}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      return total / ((performance.now() - started) / 1000);
    } finally {
      await Promise.all(comfies.map((c) => c.close()));
    }
  });
}

export async function run(): Promise<void> {
  const one = await fanOut(1);
  const many = await fanOut(1000);
  console.log(`fan-out of one generation's events (${many.events} events):`);
  console.log(`  1 subscriber:      p50 ${one.p50.toFixed(2)} ms, p99 ${one.p99.toFixed(2)} ms`);
  console.log(`  1,000 subscribers: p50 ${many.p50.toFixed(2)} ms, p99 ${many.p99.toFixed(2)} ms (last socket to receive), ${(many.p50 / one.p50).toFixed(1)}x the single subscriber`);

  const single = await throughput(1, 40);
  const ten = await throughput(10, 200);
  console.log('generations per second (10 steps each, fake ComfyUI at 10 ms a step):');
  console.log(`  1 server:   ${single.toFixed(1)}/s`);
  console.log(`  10 servers: ${ten.toFixed(1)}/s (${(ten / single).toFixed(1)}x)`);
}
