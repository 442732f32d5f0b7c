/**
 * The API's HTTP speed: an authenticated `GET /api/vast-servers` (3 servers) under 50 connections from autocannon
 * in its own process, against plain node:http answering the same bytes after the same Bearer check.
 */
import { autocannon, type HttpLoadResult } from './lib/autocannon.js';
import { startStack, TOKEN } from './lib/api.js';
import { startChild } from './lib/child.js';
import { record } from './lib/report.js';
import { fmt } from './lib/stats.js';

const CONNECTIONS = 50;
const SECONDS = 5;

export async function run(): Promise<void> {
  const stack = await startStack({ count: 3, nodeMs: 10, stepMs: 10, previews: false });
  try {
    const res = await fetch(`${stack.url}/api/vast-servers`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await res.text();
    const raw = await startChild('raw-http', { token: TOKEN, body, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
    try {
      const rawUrl = `${await raw.call<string>('url')}/api/vast-servers`;
      const apiUrl = `${stack.url}/api/vast-servers`;
      const load = (url: string, seconds = SECONDS) => autocannon(url, { token: TOKEN, connections: CONNECTIONS, seconds });
      // A second of each first, so both run JIT-compiled code when measured.
      await load(rawUrl, 1);
      await load(apiUrl, 1);
      const base = await raw.profile('http', () => load(rawUrl));
      const ours = await stack.server.profile('http', () => load(apiUrl));
      check(ours);
      check(base);
      const ratio = ours.rps / base.rps;
      console.log(`GET /api/vast-servers (${body.length} bytes), ${CONNECTIONS} connections, ${SECONDS} s each:`);
      console.log(`  raw node:http (baseline): ${fmt(base.rps, 0)} req/s, p50 ${base.p50} ms, p99 ${base.p99} ms`);
      console.log(`  API:                      ${fmt(ours.rps, 0)} req/s, p50 ${ours.p50} ms, p99 ${ours.p99} ms  ${fmt(ratio, 2)}x raw (goal >= 0.7x, p99 <= 10 ms); ${ours.requests} requests`);
      record({ name: 'http.list-servers.rps', value: ours.rps, unit: 'req/s', baseline: { name: 'raw node:http', value: base.rps }, ratio, goal: '>= 0.7x raw', met: ratio >= 0.7 });
      record({ name: 'http.list-servers.p99', value: ours.p99, unit: 'ms', baseline: { name: 'raw node:http', value: base.p99 }, ratio: ours.p99 / base.p99, goal: '<= 10 ms', met: ours.p99 <= 10 });
    } finally {
      await raw.stop();
    }
  } finally {
    await stack.stop();
  }
}

function check(r: HttpLoadResult): void {
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} answers were not 2xx and ${r.errors} failed`);
}
