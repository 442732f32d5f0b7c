import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { openRedis, RedisEventBus, type SharedEvent } from '../../src/cluster/index.js';
import { silentLogger } from '../../src/util/index.js';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

describe('RedisEventBus', () => {
  let redis: PrivateRedis;
  const clients: Redis[] = [];
  const open = async () => {
    const client = await openRedis({ url: redis.url, logger: silentLogger });
    clients.push(client);
    return RedisEventBus.open({ redis: client, logger: silentLogger });
  };

  beforeAll(async () => {
    redis = await startPrivateRedis();
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  it('delivers each event to every other process, in the order published, and not back to its publisher', async () => {
    const [a, b, c] = await Promise.all([open(), open(), open()]);
    const seen = { a: [] as SharedEvent[], b: [] as SharedEvent[], c: [] as SharedEvent[] };
    a.onEvent((e) => seen.a.push(e));
    b.onEvent((e) => seen.b.push(e));
    c.onEvent((e) => seen.c.push(e));
    const events = Array.from({ length: 200 }, (_, i) => ({ name: 'generation:event', args: [{ type: 'progress', generationId: 7, seq: i + 1, data: { progress: i / 2, previewImage: null } }] }));
    for (const event of events) a.publish(event);
    await vi.waitFor(() => expect(seen.c).toHaveLength(200), { timeout: 10_000 });
    await vi.waitFor(() => expect(seen.b).toHaveLength(200), { timeout: 10_000 });
    expect(seen.b).toEqual(events);
    expect(seen.c).toEqual(events);
    expect(seen.a).toEqual([]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('delivers the events of a topic only to the processes following it, and none after they stop', async () => {
    const [a, b, c] = await Promise.all([open(), open(), open()]);
    const seen = { b: [] as SharedEvent[], c: [] as SharedEvent[] };
    b.onEvent((e) => seen.b.push(e));
    c.onEvent((e) => seen.c.push(e));
    await b.follow('generation:7');
    const step = (seq: number) => ({ name: 'generation:event', args: [{ type: 'progress', generationId: 7, seq }] });
    for (let seq = 1; seq <= 3; seq++) a.publish(step(seq), 'generation:7');
    // An event without a topic reaches everybody, after the topic's events published before it.
    a.publish({ name: 'generation:event', args: [{ type: 'complete', generationId: 7, seq: 4 }] });
    await vi.waitFor(() => expect(seen.c).toHaveLength(1), { timeout: 10_000 });
    await vi.waitFor(() => expect(seen.b).toHaveLength(4), { timeout: 10_000 });
    expect(seen.b.map((e) => (e.args[0] as { seq: number }).seq)).toEqual([1, 2, 3, 4]);
    expect(seen.c.map((e) => (e.args[0] as { seq: number }).seq)).toEqual([4]);

    b.unfollow('generation:7');
    a.publish(step(5), 'generation:7');
    a.publish({ name: 'server:status', args: [{ server: { id: 1, status: 'running' } }] });
    await vi.waitFor(() => expect(seen.b).toHaveLength(5), { timeout: 10_000 });
    expect(seen.b.at(-1)!.name).toBe('server:status');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('ignores what is not one of its envelopes on its channel', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const seen: SharedEvent[] = [];
    b.onEvent((e) => seen.push(e));
    await clients[0]!.publish('comfy-vast:events', 'not json');
    await clients[0]!.publish('comfy-vast:events', JSON.stringify({ from: 'x', name: 7, args: [] }));
    a.publish({ name: 'server:status', args: [{ server: { id: 1, status: 'running' } }] });
    await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 10_000 });
    expect(seen[0]).toEqual({ name: 'server:status', args: [{ server: { id: 1, status: 'running' } }] });
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps publishing after Redis restarts, without throwing while it is away', async () => {
    if (!redis.restart) return expect(process.env.COMFY_VAST_TEST_REDIS_URL).toBeDefined();
    const [a, b] = await Promise.all([open(), open()]);
    const seen: SharedEvent[] = [];
    b.onEvent((e) => seen.push(e));
    await redis.restart(async () => {
      expect(() => a.publish({ name: 'download:event', args: [{ id: 1 }] })).not.toThrow();
    });
    // The subscriber resubscribes on its own after the reconnection.
    await vi.waitFor(
      async () => {
        a.publish({ name: 'download:event', args: [{ id: 2 }] });
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(seen.map((e) => (e.args[0] as { id: number }).id)).toContain(2);
      },
      { timeout: 15_000, interval: 200 },
    );
    await Promise.all([a.close(), b.close()]);
  });
});
