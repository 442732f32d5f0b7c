/**
 * Idle WebSocket connections: 10,000 authenticated sockets held open by a load process, the API server's
 * resident memory with them (against the same server before they opened), and the round trip of a subscribe on
 * one more socket while they are open (against the same round trip with no other socket open).
 */
import { startStack, TOKEN } from './lib/api.js';
import { startChild } from './lib/child.js';
import { record } from './lib/report.js';
import { fmt, percentile } from './lib/stats.js';

const IDLE = 10_000;
const SUBSCRIBES = 500;

export async function run(): Promise<void> {
  const stack = await startStack({ count: 1, nodeMs: 10, stepMs: 10, previews: false });
  const load = await startChild('ws-load');
  try {
    const serverId = stack.serverIds[0]!;
    await load.call('open', { url: stack.url, token: TOKEN, count: 1 });
    const alone = await load.call<number[]>('subscribeLatency', { serverId, count: SUBSCRIBES });
    const before = await stack.server.call<number>('gc');
    const started = performance.now();
    await load.call('open', { url: stack.url, token: TOKEN, count: IDLE });
    const openSeconds = (performance.now() - started) / 1000;
    const crowded = await stack.server.profile('sockets', () => load.call<number[]>('subscribeLatency', { serverId, count: SUBSCRIBES }));
    const after = await stack.server.call<number>('gc');
    const { connections } = await stack.server.call<{ connections: number }>('stats');
    const mb = (bytes: number) => bytes / 1024 / 1024;
    const p99 = percentile(crowded, 99);
    console.log(`${fmt(connections, 0)} authenticated WebSocket connections (opened in ${fmt(openSeconds)} s, 100 upgrades at a time):`);
    console.log(`  server RSS: ${fmt(mb(after), 0)} MB with them, ${fmt(mb(before), 0)} MB before (${fmt((after - before) / IDLE / 1024)} KB a connection) (goal <= 300 MB)`);
    console.log(`  subscribe round trip: p50 ${fmt(percentile(crowded, 50), 2)} ms, p99 ${fmt(p99, 2)} ms; with no other socket open p99 ${fmt(percentile(alone, 99), 2)} ms (goal p99 <= 5 ms)`);
    record({ name: 'sockets.10k.rss', value: mb(after), unit: 'MB', baseline: { name: 'the server before', value: mb(before) }, ratio: after / before, goal: '<= 300 MB', met: mb(after) <= 300 });
    record({ name: 'sockets.10k.subscribe.p99', value: p99, unit: 'ms', baseline: { name: 'no other socket', value: percentile(alone, 99) }, ratio: p99 / percentile(alone, 99), goal: '<= 5 ms', met: p99 <= 5 });
  } finally {
    await load.stop();
    await stack.stop();
  }
}
