import { ApiError, type ApiClient } from '@comfy-vast/server/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, raw, until } from './helpers.js';
import { useReplicas, type Replica } from './support/replicas.js';
import { openSocket, type TestSocket } from './ws-client.js';

const cluster = useReplicas(3);
const replica = (i: number): Replica => cluster.replicas[i]!;

/** A user of the cluster with a rented server whose ComfyUI runs, known to every replica. */
interface Renter {
  token: string;
  serverId: number;
  vastId: number;
  on(r: Replica): ApiClient;
}

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

/** A subscriber to one generation: every event it got, in order, and when each arrived. */
async function subscriber(r: Replica, token: string, generationId: number, since?: number): Promise<{ socket: TestSocket; events: any[]; arrivals: number[] }> {
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

describe('three API server processes on one PostgreSQL and one Redis', () => {
  beforeAll(async () => {
    [ann, bea] = await Promise.all([renter('ann', replica(0), replica(1)), renter('bea', replica(2), replica(0))]);
  }, 60_000);

  it('are each ready, and know a user created through any of them', async () => {
    for (const r of cluster.replicas) {
      const ready = await raw(r, '/api/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', store: 'postgres', postgres: 'up', redis: 'up', leases: 'known', changes: 'following' });
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
    const { socket, events } = await subscriber(a, ann.token, started.generationId, 0);
    const complete = await socket.next((m) => m.generationId === started.generationId && m.type === 'complete', 30_000);
    socket.close();
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(3);
    expect(increasing(seqs(events))).toBe(true);
    expect(events.at(-1)).toEqual(complete);
    expect(complete).toMatchObject({ data: { status: 'completed', imageUrls: [expect.stringMatching(/^\/api\/comfy\/images\/\d+_\d+\.png$/)] } });

    const image = await until(() => fetch(`${c.url}${complete.data.imageUrls[0]}`, { headers: { authorization: `Bearer ${ann.token}` } }), (r) => r.status === 200, 5_000);
    const bytes = Buffer.from(await image.arrayBuffer());
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  }, 60_000);

  it('refuses the 11th generation of a minute for one user on every replica', async () => {
    const accepted: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = await bea.on(replica(i % 3)).generate({ params: { serverId: bea.serverId }, body: { prompt: `quick ${i}`, parameters: { steps: 1 } } });
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

  it('completes, once, the generation of a replica killed outright, within the lease time and one adoption pass', async () => {
    const [a, b, c] = [replica(0), replica(1), replica(2)];
    const prompt = `a slow harbour ${Date.now()}`;
    // About 20 s of sampling on the fake ComfyUI: still running when another replica takes it over.
    const started = await ann.on(b).generate({ params: { serverId: ann.serverId }, body: { prompt, parameters: { steps: 1000, seed: 11 } } });
    const id = started.generationId;
    const onA = await subscriber(a, ann.token, id, 0);
    const onB = await subscriber(b, ann.token, id, 0);
    await onB.socket.next((m) => m.generationId === id && m.type === 'progress' && m.data.progress > 0);
    const closed = new Promise((resolve) => onB.socket.ws.once('close', resolve));

    await b.kill();
    const killedAt = Date.now();
    await closed;
    const seenOnB = onB.events.slice();
    const lastOnB = seenOnB.at(-1)!.seq as number;
    // The client of the dead replica goes to another and asks for what it missed.
    const onC = await subscriber(c, ann.token, id, lastOnB);
    const restarting = b.restart();

    const completeOnA = await onA.socket.next((m) => m.generationId === id && m.type === 'complete', 60_000);
    const completeOnC = await onC.socket.next((m) => m.generationId === id && m.type === 'complete', 30_000);
    await restarting;

    // Another replica took it over within the lease time (10 s) and one adoption pass (every 5 s), with a few seconds
    // more for a loaded machine: its first event is the first after the kill (B's last ones were sent before it).
    const adoptedAt = onA.arrivals.find((t) => t > killedAt + 1_000)!;
    expect(adoptedAt - killedAt).toBeLessThan(10_000 + 5_000 + 4_000);
    expect(onA.events.filter((e, i) => e.type === 'progress' && onA.arrivals[i]! >= adoptedAt).length).toBeGreaterThan(0);
    // On the surviving replica: seq strictly increasing, progress never going back, one complete, last.
    expect(increasing(seqs(onA.events))).toBe(true);
    const progress = onA.events.filter((e) => e.type === 'progress').map((e) => e.data.progress as number);
    expect([...progress].sort((x, y) => x - y)).toEqual(progress);
    expect(onA.events.filter((e) => e.type !== 'progress')).toEqual([completeOnA]);
    expect(completeOnA).toMatchObject({ data: { status: 'completed', imageUrls: [expect.any(String)] } });
    // The reconnected client: nothing it had seen again, nothing behind what it had seen, the same end.
    expect(onC.events.length).toBeGreaterThan(0);
    expect(seqs(onC.events).every((s) => s > lastOnB)).toBe(true);
    expect(increasing(seqs(onC.events))).toBe(true);
    const lastProgressOnB = seenOnB.filter((e) => e.type === 'progress').at(-1)!.data.progress as number;
    expect(onC.events.filter((e) => e.type === 'progress').every((e) => e.data.progress >= lastProgressOnB)).toBe(true);
    expect(onC.events.filter((e) => e.type !== 'progress')).toEqual([completeOnC]);
    expect(completeOnC).toEqual(completeOnA);
    for (const s of [onA, onC]) s.socket.close();

    // Every replica answers it completed with its images, which are in the shared folder.
    for (const r of cluster.replicas) {
      const status = await until(() => ann.on(r).getProgress({ params: { generationId: id } }), (p) => p.status === 'completed', 5_000);
      expect(status).toMatchObject({ status: 'completed', progress: 100 });
      const image = await fetch(`${r.url}${completeOnA.data.imageUrls[0]}`, { headers: { authorization: `Bearer ${ann.token}` } });
      expect(image.status).toBe(200);
    }
    // ComfyUI ran it once: one prompt in its history carries it, and nothing waits in its queue.
    const comfy = await comfyOf(ann.vastId);
    const history = Object.values((await comfy.get('/history')) as Record<string, any>).filter((entry) => JSON.stringify(entry.prompt).includes(prompt));
    expect(history).toHaveLength(1);
    expect(await comfy.get('/queue')).toEqual({ queue_running: [], queue_pending: [] });
    // And its end reached the subscribers as soon as both the run had ended and a replica followed it again.
    const ranUntil = history[0].status.messages.find(([type]: [string]) => type === 'execution_success')[1].timestamp as number;
    expect(onA.arrivals.at(-1)! - Math.max(ranUntil, adoptedAt)).toBeLessThan(5_000);
  }, 90_000);

  it('starts a server on its schedule once across the replicas, after the lease holder was killed outright', async () => {
    const client = (r: Replica) => bea.on(r);
    const params = { serverId: bea.serverId };
    await client(replica(0)).stopServer({ params: { id: bea.serverId } });
    for (const r of cluster.replicas) await until(() => client(r).getServer({ params: { id: bea.serverId } }), (s) => s.status === 'stopped', 30_000);
    // Held by someone: a holder killed in an earlier test leaves the lease to expire first.
    const holder = await until(() => cluster.backgroundHolder(), (h) => h !== undefined, 15_000);
    const killedPid = holder!.pid;
    const others = cluster.replicas.filter((r) => r !== holder);
    // The next whole minute at least 12 s away, so that the lease (10 s) has most likely changed hands by then.
    const at = new Date(Math.ceil((Date.now() + 12_000) / 60_000) * 60_000);
    const startTime = at.toISOString().slice(11, 16);
    await client(others[0]!).updateScheduleStart({ params, body: { schedule: { autoStart: true, startTime, timezone: 'UTC', weekdays: [1, 2, 3, 4, 5, 6, 7] } } });
    const instancePath = `/api/v0/instances/${bea.vastId}/`;
    const manageCalls = () => cluster.vastCalls().filter((c) => c.method === 'PUT' && c.path === instancePath).length;
    const before = manageCalls();

    await holder!.kill();
    await holder!.restart();
    const history = await until(() => client(others[1]!).scheduleHistory({ params }), (h) => h.some((item) => item.event === 'started'), 90_000);
    expect(Date.parse(history.find((item) => item.event === 'started')!.at)).toBeGreaterThanOrEqual(at.getTime());
    await until(() => client(others[1]!).getServer({ params: { id: bea.serverId } }), (s) => s.status === 'running', 30_000);
    // A few seconds more, for a second start to show if there were one.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(manageCalls() - before).toBe(1);
    for (const r of cluster.replicas) {
      const items = await client(r).scheduleHistory({ params });
      // `catch-up` when the lease changed hands only after the minute: late, but still once.
      expect(items.filter((item) => item.event === 'started')).toEqual([expect.objectContaining({ trigger: expect.stringMatching(/^(schedule|catch-up)$/) })]);
    }
    const newHolder = await cluster.backgroundHolder();
    expect(newHolder?.pid).toEqual(expect.any(Number));
    expect(newHolder!.pid).not.toBe(killedPid);
  }, 120_000);
});
