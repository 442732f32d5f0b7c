/**
 * The API's HTTP speed: an authenticated `GET /api/vast-servers` (3 servers) under 50 connections from autocannon
 * in its own process, against plain node:http answering the same bytes after the same Bearer check (the baseline),
 * and against fastify alone doing the same (the framework's floor). The three take turns for a few rounds and each
 * figure is the median over the rounds: this machine's speed drifts by a factor of two within a minute, and turns
 * put each drift on all three alike. Each also answers a fixed rate, the same for all, and the CPU its process
 * spends per request there is what a request costs in each.
 */
import { autocannon, type HttpLoadResult } from './lib/autocannon.js';
import { startStack, TOKEN } from './lib/api.js';
import { startChild, type Child } from './lib/child.js';
import { record } from './lib/report.js';
import { fmt, percentile } from './lib/stats.js';

const CONNECTIONS = 50;
const SECONDS = 3;
const ROUNDS = 3;
/** Requests a second for the cost comparison: all three answer it, so each pays for the same work. */
const RATE = 5_000;

export async function run(): Promise<void> {
  const stack = await startStack({ count: 3, nodeMs: 10, stepMs: 10, previews: false });
  try {
    const res = await fetch(`${stack.url}/api/vast-servers`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await res.text();
    const same = { token: TOKEN, body, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } };
    const raw = await startChild('raw-http', same);
    const bare = await startChild('fastify-http', same);
    try {
      const servers: [Child, string][] = [
        [raw, `${await raw.call<string>('url')}/api/vast-servers`],
        [bare, `${await bare.call<string>('url')}/api/vast-servers`],
        [stack.server, `${stack.url}/api/vast-servers`],
      ];
      // A second of each first, so that all run JIT-compiled code when measured.
      for (const [, url] of servers) await load(url, 1);
      // Each round, every server answers as fast as it can, then at a rate all three keep up with: what a request
      // costs at one rate (a saturated server's CPU per request also changes with how often its sockets and the
      // load process find each other asleep). The order turns each round, so none always follows the same one.
      // The first round is the one profiled (BENCH_PROFILE), for all three alike.
      const rounds: Measured[][] = [];
      const costs: Measured[][] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const round: Measured[] = [];
        const cost: Measured[] = [];
        for (let k = 0; k < servers.length; k++) {
          const at = (k + i) % servers.length;
          const [child, url] = servers[at]!;
          round[at] = await measure(child, url, i === 0);
          cost[at] = await measure(child, url, i === 0, RATE);
        }
        rounds.push(round);
        costs.push(cost);
      }
      const [base, floor, ours] = [0, 1, 2].map((i) => medianOf(rounds.map((r) => r[i]!))) as [Measured, Measured, Measured];
      const [rawCost, floorCost, ourCost] = [0, 1, 2].map((i) => medianOf(costs.map((r) => r[i]!))) as [Measured, Measured, Measured];
      const ratio = median(rounds.map((r) => r[2]!.rps / r[0]!.rps));
      const floorRatio = median(rounds.map((r) => r[1]!.rps / r[0]!.rps));
      const line = (label: string, m: Measured, extra = '') =>
        `  ${label.padEnd(27)} ${fmt(m.rps, 0).padStart(6)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms${extra}`;
      console.log(`GET /api/vast-servers (${body.length} bytes), ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each, medians:`);
      console.log(line('raw node:http (baseline):', base));
      console.log(line('fastify alone, same check:', floor, `  ${fmt(floorRatio, 2)}x raw`));
      console.log(line('API:', ours, `  ${fmt(ratio, 2)}x raw (goal >= 0.7x, p99 <= 10 ms)`));
      console.log(`  ratio to raw in each round: ${rounds.map((r) => fmt(r[2]!.rps / r[0]!.rps, 2)).join(', ')}`);
      console.log(
        `CPU a request at ${fmt(RATE, 0)} req/s for each, medians: raw ${fmt(rawCost.cpuUs)} µs, fastify alone ${fmt(floorCost.cpuUs)} µs, API ${fmt(ourCost.cpuUs)} µs (${fmt(ourCost.cpuUs - floorCost.cpuUs)} µs above fastify alone)`,
      );
      record({ name: 'http.list-servers.rps', value: ours.rps, unit: 'req/s', baseline: { name: 'raw node:http', value: base.rps }, ratio, goal: '>= 0.7x raw', met: ratio >= 0.7 });
      record({ name: 'http.list-servers.p99', value: ours.p99, unit: 'ms', baseline: { name: 'raw node:http', value: base.p99 }, ratio: ours.p99 / base.p99, goal: '<= 10 ms', met: ours.p99 <= 10 });
      record({ name: 'http.list-servers.cpu-per-request', value: ourCost.cpuUs, unit: 'µs', baseline: { name: 'fastify alone', value: floorCost.cpuUs }, ratio: ourCost.cpuUs / floorCost.cpuUs });
      record({ name: 'http.fastify-alone.cpu-per-request', value: floorCost.cpuUs, unit: 'µs', baseline: { name: 'raw node:http', value: rawCost.cpuUs }, ratio: floorCost.cpuUs / rawCost.cpuUs });
      record({ name: 'http.fastify-alone.rps', value: floor.rps, unit: 'req/s', baseline: { name: 'raw node:http', value: base.rps }, ratio: floorRatio });
    } finally {
      await Promise.all([raw.stop(), bare.stop()]);
    }
  } finally {
    await stack.stop();
  }
}

interface Measured extends HttpLoadResult {
  /** The server process's CPU time (user and system) per request answered, in µs. */
  cpuUs: number;
}

const load = (url: string, seconds = SECONDS, rate?: number) => autocannon(url, { token: TOKEN, connections: CONNECTIONS, seconds, rate });

async function measure(server: Child, url: string, profiled: boolean, rate?: number): Promise<Measured> {
  const before = await server.call<number>('cpu');
  const result = profiled ? await server.profile(rate ? 'http-rate' : 'http', () => load(url, SECONDS, rate)) : await load(url, SECONDS, rate);
  const cpuUs = (((await server.call<number>('cpu')) - before) * 1000) / result.requests;
  check(result);
  return { ...result, cpuUs };
}

const median = (values: number[]): number => percentile(values, 50);

/** Each figure's median over the rounds. */
function medianOf(rounds: Measured[]): Measured {
  const of = (key: keyof Measured) => median(rounds.map((r) => r[key]));
  return { rps: of('rps'), p50: of('p50'), p99: of('p99'), requests: of('requests'), non2xx: of('non2xx'), errors: of('errors'), cpuUs: of('cpuUs') };
}

function check(r: HttpLoadResult): void {
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} answers were not 2xx and ${r.errors} failed`);
}
