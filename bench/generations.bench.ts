/**
 * Generations through the real API server, every part in its own process (API server, fake ComfyUIs, the load):
 * - fan-out: one generation's events to 1,000 WebSocket subscribers against one subscriber, and against a bare `ws`
 *   server sending events of the same size to as many sockets (the floor), in the same run;
 * - throughput: generations per second on 1 and on 10 fake ComfyUIs against the same fakes driven directly.
 */
import { startStack, TOKEN, type Stack } from './lib/api.js';
import { startChild, type Child } from './lib/child.js';
import { record } from './lib/report.js';
import { fmt, percentile } from './lib/stats.js';

interface Fanout {
  /** Hub: from the library's event to the last subscriber's socket write. */
  write: { p50: number; p99: number };
  /** From the library's event to the last subscriber's process receiving it (includes that process's own work). */
  delivery: { p50: number; p99: number };
  events: number;
  /** Mean size of an event as a subscriber received it. */
  eventBytes: number;
}

interface FanoutLoad {
  last: Record<number, number>;
  eventBytes: number;
}

/** Each event's write and delivery span from when it began (wall clock), for the events every socket could get. */
function summarise(published: [seq: number, start: number, end: number][], load: FanoutLoad): Fanout {
  const write: number[] = [];
  const delivery: number[] = [];
  for (const [seq, start, end] of published) {
    if (load.last[seq] === undefined) continue;
    write.push(end - start);
    delivery.push(load.last[seq]! - start);
  }
  return { write: { p50: percentile(write, 50), p99: percentile(write, 99) }, delivery: { p50: percentile(delivery, 50), p99: percentile(delivery, 99) }, events: write.length, eventBytes: load.eventBytes };
}

/**
 * One generation's events to every socket the load process has open. The three fan-outs share one server and one
 * load process (sockets are added between them), which saves two start-ups of the whole stack.
 */
async function fanOut(stack: Stack, load: Child, label: string, previews: boolean): Promise<Fanout> {
  // Subscribing needs the generation's id, so it runs long enough for every socket to subscribe first.
  const { generationId } = await stack.api.generate({ params: { serverId: stack.serverIds[0]! }, body: { prompt: 'fan-out', parameters: { steps: 80, width: 64, height: 64 } } });
  const subscribedAt = performance.timeOrigin + performance.now();
  const result = await stack.server.profile(`fanout-${label}`, () => load.call<FanoutLoad>('fanout', { generationId, previews }));
  const published = await stack.server.call<Record<string, [number, number]>>('published');
  const spans = Object.entries(published).flatMap(([key, [start, end]]): [number, number, number][] => {
    const [id, seq] = key.split(':').map(Number) as [number, number];
    // Events published before every socket had subscribed reached only some of them.
    return id === generationId && start >= subscribedAt + 200 ? [[seq, start, end]] : [];
  });
  return summarise(spans, result);
}

/**
 * The floor: the same number of events of the same size, as far apart, from a bare `ws` server to as many sockets
 * of the same load process (see procs/ws-floor.ts).
 */
async function fanOutFloor(load: Child, like: Fanout, subscribers: number): Promise<Fanout> {
  const floor = await startChild('ws-floor');
  try {
    await load.call('closeAll');
    await load.call('open', { url: await floor.call<string>('url'), token: TOKEN, count: subscribers });
    const received = load.call<FanoutLoad>('fanout', { generationId: 1, previews: false });
    while ((await floor.call<number>('subscribers')) < subscribers) await new Promise((resolve) => setTimeout(resolve, 20));
    const published = await floor.profile('fanout-floor', () => floor.call<Record<number, [number, number]>>('broadcast', { events: like.events, intervalMs: 5, bytes: Math.round(like.eventBytes) }));
    return summarise(Object.entries(published).map(([seq, [start, end]]) => [Number(seq), start, end]), await received);
  } finally {
    await load.call('closeAll');
    await floor.stop();
  }
}

async function throughput(servers: number, total: number): Promise<{ api: number; direct: number; lost: number; submitP99: number }> {
  const steps = 10;
  const size = 64;
  const stack = await startStack({ count: servers, nodeMs: 0, stepMs: 10, previews: false });
  const load = await startChild('ws-load');
  try {
    // A first round warms the fakes up (JIT), so that the baseline is their speed, not their start.
    await load.call('comfyDirect', { urls: stack.comfyUrls, total: servers * 3, steps, size });
    const direct = await load.call<{ seconds: number; completed: number }>('comfyDirect', { urls: stack.comfyUrls, total: Math.max(20, total / 2), steps, size });
    const api = await stack.server.profile(`generations-${servers}`, () =>
      load.call<{ seconds: number; completed: number; failed: number; submitMs: number[] }>('generate', { url: stack.url, token: TOKEN, serverIds: stack.serverIds, total, steps, size }),
    );
    return { api: api.completed / api.seconds, direct: direct.completed / direct.seconds, lost: total - api.completed, submitP99: percentile(api.submitMs, 99) };
  } finally {
    await load.stop();
    await stack.stop();
  }
}

export async function run(): Promise<void> {
  const stack = await startStack({ count: 1, nodeMs: 5, stepMs: 5, previews: true });
  const load = await startChild('ws-load');
  let one: Fanout, many: Fanout, previews: Fanout, floor: Fanout;
  try {
    await load.call('open', { url: stack.url, token: TOKEN, count: 1 });
    one = await fanOut(stack, load, '1', false);
    await load.call('open', { url: stack.url, token: TOKEN, count: 999 });
    many = await fanOut(stack, load, '1000', false);
    previews = await fanOut(stack, load, '1000-previews', true);
    floor = await fanOutFloor(load, many, 1_000);
  } finally {
    await load.stop();
    await stack.stop();
  }
  console.log(`fan-out of one generation's events (${many.events} events, 80 steps at 5 ms), hub write = library event to the last subscriber's socket write:`);
  console.log(`  1 subscriber (baseline):         write p50 ${fmt(one.write.p50, 2)} ms, p99 ${fmt(one.write.p99, 2)} ms; received p99 ${fmt(one.delivery.p99, 2)} ms`);
  const ratio = many.write.p99 / one.write.p99;
  console.log(`  1,000 subscribers:               write p50 ${fmt(many.write.p50, 2)} ms, p99 ${fmt(many.write.p99, 2)} ms (${fmt(ratio)}x); received by the last p99 ${fmt(many.delivery.p99, 2)} ms (goal: p99 <= 5 ms)`);
  console.log(`  bare ws, same events (floor):    write p50 ${fmt(floor.write.p50, 2)} ms, p99 ${fmt(floor.write.p99, 2)} ms; received by the last p99 ${fmt(floor.delivery.p99, 2)} ms (${floor.events} events of ${fmt(many.eventBytes, 0)} bytes)`);
  console.log(`  1,000 subscribers with previews: write p50 ${fmt(previews.write.p50, 2)} ms, p99 ${fmt(previews.write.p99, 2)} ms; received by the last p99 ${fmt(previews.delivery.p99, 2)} ms`);
  record({ name: 'fanout.1000.write.p99', value: many.write.p99, unit: 'ms', baseline: { name: '1 subscriber', value: one.write.p99 }, ratio, goal: '<= 5 ms', met: many.write.p99 <= 5 });
  record({ name: 'fanout.1000.write.p99-against-bare-ws', value: many.write.p99, unit: 'ms', baseline: { name: 'bare ws, same events', value: floor.write.p99 }, ratio: many.write.p99 / floor.write.p99 });
  record({ name: 'fanout.1000.received.p99', value: many.delivery.p99, unit: 'ms', baseline: { name: '1 subscriber', value: one.delivery.p99 }, ratio: many.delivery.p99 / one.delivery.p99 });
  record({ name: 'fanout.1000-previews.write.p99', value: previews.write.p99, unit: 'ms', baseline: { name: '1 subscriber', value: one.write.p99 }, ratio: previews.write.p99 / one.write.p99 });

  console.log('generations per second (10 steps at 10 ms, 64x64 images), against the same fakes driven directly:');
  for (const [servers, total, goal] of [[1, 30, 9], [10, 300, 90]] as const) {
    const t = await throughput(servers, total);
    const r = t.api / t.direct;
    console.log(`  ${String(servers).padStart(2)} server(s): ${fmt(t.api)}/s, fake's own limit ${fmt(t.direct)}/s: ${fmt(r, 2)}x (goal >= ${goal}/s, >= 0.9x), ${t.lost} lost, submit p99 ${fmt(t.submitP99)} ms`);
    record({ name: `generations.${servers}.per-second`, value: t.api, unit: '/s', baseline: { name: "fake ComfyUI's own limit", value: t.direct }, ratio: r, goal: `>= ${goal}/s, none lost`, met: t.api >= goal && t.lost === 0 });
  }
}
