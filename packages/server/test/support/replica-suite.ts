import { ApiError, type ApiClient } from '@comfy-vast/server/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, raw, until } from '../helpers.js';
import { openSocket, type TestSocket } from '../ws-client.js';
import type { Replica, ReplicaCluster } from './replicas.js';

/** A user of the cluster with a rented server whose ComfyUI runs, known to every replica. */
interface Renter {
  token: string;
  serverId: number;
  vastId: number;
  on(r: Replica): ApiClient;
}

/** A subscriber to one generation: every event it got, in order, and when each arrived. */
interface Subscriber {
  socket: TestSocket;
  events: any[];
  arrivals: number[];
}

async function subscriber(r: Replica, token: string, generationId: number, since?: number): Promise<Subscriber> {
  const socket = await openSocket(r.socketUrl(token));
  await socket.next((m) => m.type === 'ready');
  const events: any[] = [];
  const arrivals: number[] = [];
  socket.ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.generationId === generationId && (m.type === 'progress' || m.type === 'complete' || m.type === 'error')) {
      events.push(m);
      arrivals.push(Date.now());
    }
  });
  socket.send(since === undefined ? { type: 'subscribe', generationId } : { type: 'subscribe', generationId, since });
  await socket.next((m) => m.type === 'subscribed');
  return { socket, events, arrivals };
}

const seqs = (events: any[]) => events.map((e) => e.seq as number);
const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

/** A stream a client may rely on: seq strictly increasing, progress never going back, one `complete`, last. */
function expectSound(s: Subscriber, complete: unknown): void {
  expect(increasing(seqs(s.events))).toBe(true);
  const progress = s.events.filter((e) => e.type === 'progress').map((e) => e.data.progress as number);
  expect([...progress].sort((x, y) => x - y)).toEqual(progress);
  expect(s.events.filter((e) => e.type !== 'progress')).toEqual([complete]);
}

/**
 * What a team running the API relies on, asked of a cluster: three replicas on PostgreSQL and Redis, or the embedded
 * default as its one process. With one process, "replica B" and "replica C" are that process again, and a process
 * killed outright comes back on its own data directory instead of being replaced by a survivor.
 */
export function replicaSuite(title: string, cluster: ReplicaCluster): void {
  const replica = (i: number): Replica => cluster.replicas[i % cluster.replicas.length]!;
  const several = () => cluster.replicas.length > 1;
  let ann: Renter;
  let bea: Renter;

  /** Creates the user through one replica and rents a server through another; resolves once every replica sees it run. */
  async function renter(username: string, via: Replica, rentVia: Replica): Promise<Renter> {
    const { token } = await via.client(ADMIN_TOKEN).createUser({ body: { username } });
    const on = (r: Replica) => r.client(token);
    // The replica renting may hear of the new user's token a moment after the one that issued it.
    await until(() => on(rentVia).me().catch(() => null), (me) => me !== null, 5_000);
    const created = await on(rentVia).createServer({ body: { name: `${username}'s`, gpu: 'RTX 4090' } });
    for (const r of cluster.replicas) {
      await until(() => on(r).getServer({ params: { id: created.id } }).catch(() => null), (s) => s?.status === 'running' && s.isLaunched, 30_000);
    }
    return { token, serverId: created.id, vastId: Number(created.vastId), on };
  }

  /** The ComfyUI an instance serves (inside the fake Vast.ai process), reached as Vast's proxy is: with its password. */
  async function comfyOf(vastId: number): Promise<{ get(path: string): Promise<any> }> {
    const shown = await fetch(`${cluster.vast.url}/api/v0/instances/${vastId}/`, { headers: { authorization: `Bearer ${cluster.vast.apiKey}` } });
    const { instances } = (await shown.json()) as { instances: { public_ipaddr: string; ports: Record<string, Array<{ HostPort: string }>>; extra_env: Array<[string, string]> } };
    const base = `http://${instances.public_ipaddr}:${instances.ports['8188/tcp']![0]!.HostPort}`;
    const password = instances.extra_env.find(([k]) => k === 'WEB_PASSWORD')![1];
    return { get: async (path) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${password}` } })).json() };
  }

  describe(title, () => {
    beforeAll(async () => {
      [ann, bea] = await Promise.all([renter('ann', replica(0), replica(1)), renter('bea', replica(2), replica(0))]);
    }, 60_000);

    it('are each ready, and know a user created through any of them', async () => {
      const engines = cluster.embedded
        ? { store: 'embedded' }
        : { store: 'postgres', postgres: 'up', redis: 'up', leases: 'known', changes: 'following' };
      for (const r of cluster.replicas) {
        const ready = await raw(r, '/api/health/ready');
        expect(ready.status).toBe(200);
        expect(ready.body).toEqual({ status: 'ready', ...engines });
      }
      const created = await replica(0).client(ADMIN_TOKEN).createUser({ body: { username: 'cat' } });
      // The others hear of the new user through PostgreSQL's change notices, within moments rather than at once.
      for (const r of [replica(1), replica(2)]) {
        const me = await until(() => r.client(created.token).me().catch((error: unknown) => error), (answer) => !(answer instanceof Error), 5_000);
        expect(me).toMatchObject({ id: created.id, username: 'cat' });
      }
    });

    it('shows a generation submitted on B to a subscriber on A, in order, and serves its image from C', async () => {
      const [a, b, c] = [replica(0), replica(1), replica(2)];
      const started = await ann.on(b).generate({ params: { serverId: ann.serverId }, body: { prompt: 'a lighthouse seen from A', parameters: { steps: 40, seed: 7 } } });
      const onA = await subscriber(a, ann.token, started.generationId, 0);
      const complete = await onA.socket.next((m) => m.generationId === started.generationId && m.type === 'complete', 30_000);
      onA.socket.close();
      expect(onA.events.filter((e) => e.type === 'progress').length).toBeGreaterThan(3);
      expectSound(onA, complete);
      expect(complete).toMatchObject({ data: { status: 'completed', imageUrls: [expect.stringMatching(/^\/api\/comfy\/images\/\d+_\d+\.png$/)] } });

      const image = await until(() => fetch(`${c.url}${complete.data.imageUrls[0]}`, { headers: { authorization: `Bearer ${ann.token}` } }), (r) => r.status === 200, 5_000);
      const bytes = Buffer.from(await image.arrayBuffer());
      expect(image.headers.get('content-type')).toBe('image/png');
      expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    }, 60_000);

    it('refuses the 11th generation of a minute for one user on every replica', async () => {
      const accepted: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = await bea.on(replica(i)).generate({ params: { serverId: bea.serverId }, body: { prompt: `quick ${i}`, parameters: { steps: 1 } } });
        accepted.push(started.generationId);
      }
      expect(new Set(accepted).size).toBe(10);
      for (const r of cluster.replicas) {
        const refused = await bea.on(r).generate({ params: { serverId: bea.serverId }, body: { prompt: 'one too many', parameters: { steps: 1 } } }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(ApiError);
        expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED', details: { window: 'minute', limit: 10 } });
      }
      // Let bea's server finish them: the schedule test stops it.
      for (const id of accepted) await until(() => bea.on(replica(0)).getProgress({ params: { generationId: id } }), (p) => p.status === 'completed', 30_000);
    }, 60_000);

    it('completes, once, the generation of a process killed outright, within the lease time and one adoption pass', async () => {
      // B follows the generation and dies; A watches throughout when it is another process; C is where B's client
      // goes next: a survivor, or B itself once restarted.
      const [a, b, c] = [replica(0), replica(1), replica(2)];
      const prompt = `a slow harbour ${Date.now()}`;
      // About 20 s of sampling on the fake ComfyUI: still running when another replica takes it over.
      const started = await ann.on(b).generate({ params: { serverId: ann.serverId }, body: { prompt, parameters: { steps: 1000, seed: 11 } } });
      const id = started.generationId;
      const onA = several() ? await subscriber(a, ann.token, id, 0) : undefined;
      const onB = await subscriber(b, ann.token, id, 0);
      await onB.socket.next((m) => m.generationId === id && m.type === 'progress' && m.data.progress > 0);
      const closed = new Promise((resolve) => onB.socket.ws.once('close', resolve));

      await b.kill();
      const killedAt = Date.now();
      await closed;
      const seenOnB = onB.events.slice();
      const lastOnB = seenOnB.at(-1)!.seq as number;
      const restarting = b.restart();
      if (!several()) await restarting;
      // The client of the dead process goes to another (or to it again) and asks for what it missed.
      const onC = await subscriber(c, ann.token, id, lastOnB);
      const isComplete = (m: any) => m.generationId === id && m.type === 'complete';
      const completeOnA = onA ? await onA.socket.next(isComplete, 60_000) : undefined;
      const completeOnC = await onC.socket.next(isComplete, 60_000);
      await restarting;

      // The process now following it is a survivor that took it over within the lease time (10 s) and one adoption
      // pass (every 5 s), or the killed one come back; a few seconds more for a loaded machine. Its first event is
      // the first after the kill (B's last ones were sent before it).
      const follower = onA ?? onC;
      const followedAt = follower.arrivals.find((t) => t > killedAt + 1_000)!;
      expect(followedAt - killedAt).toBeLessThan(10_000 + 5_000 + 4_000);
      expect(follower.events.filter((e, i) => e.type === 'progress' && follower.arrivals[i]! >= followedAt).length).toBeGreaterThan(0);
      if (onA) {
        expectSound(onA, completeOnA);
        expect(completeOnC).toEqual(completeOnA);
      }
      expect(completeOnC).toMatchObject({ data: { status: 'completed', imageUrls: [expect.any(String)] } });
      // The reconnected client: nothing it had seen again, nothing behind what it had seen, the same end.
      expect(onC.events.length).toBeGreaterThan(0);
      expect(seqs(onC.events).every((s) => s > lastOnB)).toBe(true);
      expectSound(onC, completeOnC);
      const lastProgressOnB = seenOnB.filter((e) => e.type === 'progress').at(-1)!.data.progress as number;
      expect(onC.events.filter((e) => e.type === 'progress').every((e) => e.data.progress >= lastProgressOnB)).toBe(true);
      for (const s of [onA, onC]) s?.socket.close();

      // Every replica answers it completed with its images, which every replica serves.
      for (const r of cluster.replicas) {
        const status = await until(() => ann.on(r).getProgress({ params: { generationId: id } }), (p) => p.status === 'completed', 5_000);
        expect(status).toMatchObject({ status: 'completed', progress: 100 });
        const image = await fetch(`${r.url}${completeOnC.data.imageUrls[0]}`, { headers: { authorization: `Bearer ${ann.token}` } });
        expect(image.status).toBe(200);
      }
      // ComfyUI ran it once: one prompt in its history carries it, and nothing waits in its queue.
      const comfy = await comfyOf(ann.vastId);
      const history = Object.values((await comfy.get('/history')) as Record<string, any>).filter((entry) => JSON.stringify(entry.prompt).includes(prompt));
      expect(history).toHaveLength(1);
      expect(await comfy.get('/queue')).toEqual({ queue_running: [], queue_pending: [] });
      // And its end reached the subscribers as soon as both the run had ended and a process followed it again.
      const ranUntil = history[0].status.messages.find(([type]: [string]) => type === 'execution_success')[1].timestamp as number;
      expect(follower.arrivals.at(-1)! - Math.max(ranUntil, followedAt)).toBeLessThan(5_000);
    }, 90_000);

    it('starts a server on its schedule once across the replicas, after the lease holder was killed outright', async () => {
      const client = (r: Replica) => bea.on(r);
      const params = { serverId: bea.serverId };
      await client(replica(0)).stopServer({ params: { id: bea.serverId } });
      for (const r of cluster.replicas) await until(() => client(r).getServer({ params: { id: bea.serverId } }), (s) => s.status === 'stopped', 30_000);
      // Held by someone: a holder killed in an earlier test leaves the lease to expire first.
      const holder = await until(() => cluster.backgroundHolder(), (h) => h !== undefined, 15_000);
      const killedPid = holder!.pid;
      // Asked of the others where there are others; of the one process, before and after its restart, otherwise.
      const others = cluster.replicas.filter((r) => r !== holder);
      const [setter, reader] = [others[0] ?? holder!, others[1] ?? others[0] ?? holder!];
      // The next whole minute at least 12 s away, so that the lease (10 s) has most likely changed hands by then.
      const at = new Date(Math.ceil((Date.now() + 12_000) / 60_000) * 60_000);
      const startTime = at.toISOString().slice(11, 16);
      await client(setter).updateScheduleStart({ params, body: { schedule: { autoStart: true, startTime, timezone: 'UTC', weekdays: [1, 2, 3, 4, 5, 6, 7] } } });
      const instancePath = `/api/v0/instances/${bea.vastId}/`;
      const manageCalls = () => cluster.vastCalls().filter((c) => c.method === 'PUT' && c.path === instancePath).length;
      const before = manageCalls();

      await holder!.kill();
      await holder!.restart();
      const history = await until(() => client(reader).scheduleHistory({ params }), (h) => h.some((item) => item.event === 'started'), 90_000);
      expect(Date.parse(history.find((item) => item.event === 'started')!.at)).toBeGreaterThanOrEqual(at.getTime());
      await until(() => client(reader).getServer({ params: { id: bea.serverId } }), (s) => s.status === 'running', 30_000);
      // A few seconds more, for a second start to show if there were one.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(manageCalls() - before).toBe(1);
      for (const r of cluster.replicas) {
        const items = await client(r).scheduleHistory({ params });
        // `catch-up` when the lease changed hands (or the process came back) only after the minute: late, but once.
        expect(items.filter((item) => item.event === 'started')).toEqual([expect.objectContaining({ trigger: expect.stringMatching(/^(schedule|catch-up)$/) })]);
      }
      const newHolder = await cluster.backgroundHolder();
      expect(newHolder?.pid).toEqual(expect.any(Number));
      expect(newHolder!.pid).not.toBe(killedPid);
    }, 120_000);
  });
}
