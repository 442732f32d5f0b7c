import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Lease, ManualClock, openRedis, silentLogger, type LeaseLossReason, type LeaseOptions, type Logger, type Redis } from '@comfy-vast/core';
import { usePrivateRedis } from '../store/helpers/use-redis.js';

const redisServer = usePrivateRedis();
const clients: Redis[] = [];
const leases: Lease[] = [];

afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.close()));
  for (const c of clients.splice(0)) c.disconnect();
});

/** What each lease did, in the order it happened across all of them. */
type Happening = `${string} acquired ${number}` | `${string} lost ${LeaseLossReason}`;

async function client(): Promise<Redis> {
  const redis = await openRedis({ url: redisServer.server.url, logger: silentLogger });
  clients.push(redis);
  return redis;
}

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: (_o, msg) => lines.push(`info ${msg}`),
    warn: (_o, msg) => lines.push(`warn ${msg}`),
    error: (_o, msg) => lines.push(`error ${msg}`),
    child: () => logger,
  };
  return logger;
}

async function lease(name: string, happenings: Happening[], options: Partial<LeaseOptions> & Pick<LeaseOptions, 'clock' | 'prefix'>): Promise<Lease> {
  const l = new Lease({ redis: await client(), name: 'background', logger: silentLogger, ...options });
  l.on('acquired', (fence) => happenings.push(`${name} acquired ${fence}`));
  l.on('lost', (reason) => happenings.push(`${name} lost ${reason}`));
  leases.push(l);
  return l;
}

const prefix = () => `test-${randomBytes(4).toString('hex')}:`;
const realDelay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Moves the injected clock a little faster than real time passes, as the lease requires of it against Redis's clock. */
async function runUntil(clock: ManualClock, done: () => boolean, limitMs: number): Promise<void> {
  for (let waited = 0; waited < limitMs && !done(); waited += 20) {
    await realDelay(20);
    await clock.advance(25);
  }
  expect(done()).toBe(true);
}

/** Moves the injected clock by `ms` in steps, giving Redis's answers real time to arrive after each. */
async function run(clock: ManualClock, ms: number, stepMs = 250): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    await realDelay(10);
  }
}

/** Waits in real time, the injected clock standing still, for an answer from Redis to be applied. */
async function settled(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await realDelay(10);
  expect(await done()).toBe(true);
}

describe('Lease', () => {
  it('is acquired by one process only, with the fence counted in Redis, and known to the others', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const happenings: Happening[] = [];
    const a = await lease('a', happenings, { clock, prefix: p });
    const b = await lease('b', happenings, { clock, prefix: p });
    expect(a.known).toBe(false);
    await a.start();
    await b.start();
    expect([a.held, b.held, a.known, b.known]).toEqual([true, false, true, true]);
    expect(a.fence).toBe(1);
    expect(b.fence).toBeNull();
    expect(a.key).toBe(`${p}lease:background`);
    expect(await redisServer.admin.get(`${p}lease:background:fence`)).toBe('1');
    const pttl = await redisServer.admin.pttl(a.key);
    expect(pttl).toBeGreaterThan(9_000);
    expect(pttl).toBeLessThanOrEqual(10_000);
    expect(happenings).toEqual(['a acquired 1']);
  });

  it('renews on the injected clock, so it is held for as long as the clock runs, and Redis keeps extending it', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const happenings: Happening[] = [];
    const a = await lease('a', happenings, { clock, prefix: p, ttlMs: 10_000 });
    const b = await lease('b', happenings, { clock, prefix: p, ttlMs: 10_000 });
    await a.start();
    await b.start();
    await realDelay(300);
    const before = await redisServer.admin.pttl(a.key);
    expect(before).toBeLessThan(9_800);
    // A third of the ttl: one renewal, which gives Redis's expiry its full ttl again.
    await clock.advance(3_334);
    await settled(async () => (await redisServer.admin.pttl(a.key)) > before + 100);
    // Far past the ttl on the injected clock: renewals keep it, and the other process never gets it.
    await run(clock, 30_000);
    expect([a.held, b.held, a.fence]).toEqual([true, false, 1]);
    expect(happenings).toEqual(['a acquired 1']);
  });

  it('is released on close, after its holder has been told to stop, and the next holder gets a higher fence', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const happenings: Happening[] = [];
    const a = await lease('a', happenings, { clock, prefix: p });
    const b = await lease('b', happenings, { clock, prefix: p });
    await a.start();
    await b.start();
    await a.close();
    expect(await redisServer.admin.exists(a.key)).toBe(0);
    expect(a.held).toBe(false);
    // The other tries again a tenth of the ttl later.
    await clock.advance(1_000);
    await settled(() => b.held);
    expect(happenings).toEqual(['a acquired 1', 'a lost released', 'b acquired 2']);
    const c = await lease('c', happenings, { clock, prefix: p });
    await c.start();
    await b.close();
    await clock.advance(1_000);
    await settled(() => c.held);
    expect(c.fence).toBe(3);
  });

  it('does not delete a key that another process holds when it closes late', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const a = await lease('a', [], { clock, prefix: p });
    await a.start();
    await redisServer.admin.set(a.key, 'someone-else', 'PX', 10_000);
    await a.close();
    expect(await redisServer.admin.get(a.key)).toBe('someone-else');
  });

  it('is lost at the next renewal when another process holds the key', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const happenings: Happening[] = [];
    const a = await lease('a', happenings, { clock, prefix: p });
    await a.start();
    await redisServer.admin.set(a.key, 'someone-else', 'PX', 10_000);
    await clock.advance(3_334);
    await settled(() => !a.held);
    expect(happenings).toEqual(['a acquired 1', 'a lost taken']);
    await redisServer.admin.del(a.key);
    await clock.advance(1_000);
    await settled(() => a.held);
    expect(happenings).toEqual(['a acquired 1', 'a lost taken', 'a acquired 2']);
  });

  it('moves to another process when its holder is cut off from Redis, and the holder stops before the other starts', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const happenings: Happening[] = [];
    const lines: string[] = [];
    const a = await lease('a', happenings, { clock, prefix: p, ttlMs: 1_000, logger: recordingLogger(lines) });
    const b = await lease('b', happenings, { clock, prefix: p, ttlMs: 1_000 });
    await a.start();
    await b.start();
    const cutAt = Date.now();
    clients[0]!.disconnect();
    await runUntil(clock, () => b.held, 3_000);
    expect(Date.now() - cutAt).toBeLessThan(2_000);
    expect(happenings).toEqual(['a acquired 1', 'a lost deadline', 'b acquired 2']);
    // Retried at every renewal and every tenth of the ttl since, and said once.
    expect(lines.filter((l) => l.startsWith('warn Redis does not answer'))).toHaveLength(1);
    expect(a.held).toBe(false);
  });

  it('rides out a Redis restart: the holder stops at its deadline, keeps trying, says so once, and holds it again after', async () => {
    const clock = new ManualClock(0);
    const p = prefix();
    const happenings: Happening[] = [];
    const lines: string[] = [];
    const a = await lease('a', happenings, { clock, prefix: p, logger: recordingLogger(lines) });
    await a.start();
    await redisServer.server.restart!(async () => {
      // Down for a second and a half of real time, long enough for attempts to fail rather than wait in the queue.
      for (let i = 0; i < 30; i++) {
        await clock.advance(1_000);
        await realDelay(50);
      }
      expect(a.held).toBe(false);
    });
    // The client reconnects on its own; the next attempt takes the lease in the emptied Redis.
    await runUntil(clock, () => a.held, 5_000);
    // The restarted Redis is empty: the fence counts again from 1 (an answer that came too late may have used one).
    expect(happenings).toEqual(['a acquired 1', 'a lost deadline', `a acquired ${a.fence}`]);
    expect(a.fence).toBeLessThanOrEqual(2);
    expect(lines.filter((l) => l.startsWith('warn Redis does not answer'))).toHaveLength(1);
    expect(lines.filter((l) => l === 'info Redis answers the lease again')).toHaveLength(1);
  }, 20_000);

  it('is not known while Redis does not answer, and is taken as soon as it does', async () => {
    const clock = new ManualClock(0);
    const happenings: Happening[] = [];
    const lines: string[] = [];
    const a = await lease('a', happenings, { clock, prefix: prefix(), logger: recordingLogger(lines) });
    clients[0]!.disconnect();
    await a.start();
    await run(clock, 5_000);
    expect([a.known, a.held]).toEqual([false, false]);
    await clients[0]!.connect();
    await run(clock, 1_000);
    await settled(() => a.held);
    expect(a.known).toBe(true);
    expect(happenings).toEqual(['a acquired 1']);
    expect(lines.filter((l) => l.startsWith('warn Redis does not answer'))).toHaveLength(1);
    expect(lines.filter((l) => l === 'info Redis answers the lease again')).toHaveLength(1);
  });

  it('refuses timings where a holder could outlive its lease', async () => {
    const redis = await client();
    const clock = new ManualClock(0);
    expect(() => new Lease({ redis, clock, logger: silentLogger, name: 'x', ttlMs: 1_000, renewDeadlineMs: 1_000 })).toThrow(/renewDeadlineMs < ttlMs/);
    expect(() => new Lease({ redis, clock, logger: silentLogger, name: 'x', ttlMs: 1_000, renewEveryMs: 900 })).toThrow(/renewEveryMs < renewDeadlineMs/);
  });
});
