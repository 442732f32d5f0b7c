import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServerService, VastClient, serversCollection, type ServerEvent, type VastInstance } from '@comfy-vast/core';
import { startFakeVast } from '@comfy-vast/testkit';
import { NO_SPACING } from '../vast/helpers.js';
import { RTX, world, type World } from './setup.js';

let w: World;
beforeEach(async () => {
  w = await world({ adoptUserId: 5 });
});
afterEach(async () => {
  await w.close();
});

const records = () => w.store.collection(serversCollection).all();
const listCalls = () => w.fake.calls().filter((c) => c.path === '/api/v1/instances/').length;

describe('the reconciler', () => {
  it('adopts an instance that was rented but never recorded', async () => {
    const adopted: ServerEvent[] = [];
    w.service.on('server:adopted', (e) => adopted.push(e));
    const vastId = w.fake.addInstance({ label: 'comfy-vast:7', env: { WEB_PASSWORD: 'orphan-pw' } });
    await w.service.reconcile();
    expect(records()).toHaveLength(1);
    const [record] = records();
    expect(record).toMatchObject({ userId: 5, name: `adopted-${vastId}`, vastId, status: 'running', comfyToken: 'orphan-pw' });
    expect(w.fake.instance(vastId)).toMatchObject({ label: `comfy-vast:${record!.id}` });
    expect(adopted.map((e) => [e.userId, e.server.vastId])).toEqual([[5, vastId]]);
    await w.service.reconcile();
    expect(records()).toHaveLength(1);
  });

  it('leaves instances without our label alone', async () => {
    w.fake.addInstance({ label: 'someone else' });
    w.fake.addInstance();
    await w.service.reconcile();
    expect(records()).toEqual([]);
  });

  it('links a server whose rent answer was lost to the instance Vast created for it', async () => {
    w.fake.inject('create', { status: 502, text: 'Bad Gateway' });
    await expect(w.service.create(1, RTX)).rejects.toMatchObject({ code: 'VAST_API_ERROR' });
    expect(w.service.get(1, 1)).toMatchObject({ status: 'error', vastId: null });
    const vastId = w.fake.addInstance({ label: 'comfy-vast:1', running: false });
    await w.service.reconcile();
    expect(w.service.get(1, 1)).toMatchObject({ status: 'creating', vastId });
    expect(records()).toHaveLength(1);
  });

  it('destroys the instance of a server deleted before its instance was linked, since it still bills', async () => {
    w.fake.inject('create', { status: 504, text: 'Gateway Timeout' });
    await expect(w.service.create(1, RTX)).rejects.toMatchObject({ code: 'VAST_API_ERROR' });
    await w.service.delete(1, 1);
    const vastId = w.fake.addInstance({ label: 'comfy-vast:1' });
    await w.service.reconcile();
    expect(w.fake.instance(vastId)).toBeUndefined();
    expect(records().filter((r) => r.status !== 'deleted')).toEqual([]);
  });

  describe('matching instances to servers by label, never destroying one a live server holds', () => {
    const noInstances = () => ({ status: 200, body: { success: true, instances_found: 0, total_instances: 0, label_counts: {}, next_token: null, instances: [] as unknown[] } });
    const destroyed = () => w.fake.calls().filter((c) => c.method === 'DELETE');

    it('keeps an instance whose id Vast hands out again to a new server, though a deleted server had it', async () => {
      const old = await w.service.create(1, RTX);
      await w.service.delete(1, old.id);
      // We restart, and so does a Vast.ai that forgot its instances (the simulated one before it kept its state): ids start over.
      await w.fake.close();
      w.fake = await startFakeVast({ now: () => w.clock.now(), intervalsMs: NO_SPACING });
      const vast = new VastClient({ apiKey: w.fake.apiKey, baseUrl: w.fake.url, clock: w.clock, minIntervalsMs: NO_SPACING });
      const service = new ServerService({ store: w.store, vast, clock: w.clock, logger: w.log.logger });
      const fresh = await service.create(1, RTX);
      expect(fresh.vastId).toBe(old.vastId);
      await w.clock.advance(31_000);
      await service.reconcile();
      await service.reconcile();
      expect(destroyed()).toEqual([]);
      expect(w.fake.instance(fresh.vastId!)).toMatchObject({ label: `comfy-vast:${fresh.id}`, actual_status: 'running' });
      expect(service.get(1, fresh.id)).toMatchObject({ status: 'running', vastId: fresh.vastId });
      expect(w.log.lines.some((l) => l.includes('Destroying'))).toBe(false);
    });

    it('keeps an instance re-attached after its first server was marked deleted, and relabels it to its new server', async () => {
      const first = await w.service.create(1, RTX);
      const vastId = first.vastId!;
      w.fake.inject('list', noInstances());
      await w.service.reconcile();
      expect(w.service.find(first.id)).toBeUndefined();
      const again = await w.service.create(1, { name: 'again', vastId });
      await w.service.reconcile();
      expect(destroyed()).toEqual([]);
      expect(w.fake.instance(vastId)).toMatchObject({ label: `comfy-vast:${again.id}` });
      await w.service.reconcile();
      expect(destroyed()).toEqual([]);
      expect(w.service.get(1, again.id)).toMatchObject({ status: 'creating', vastId });
    });

    it('adopts, never destroys, an instance whose label names a live server holding another instance', async () => {
      const server = await w.service.create(1, RTX);
      const stray = w.fake.addInstance({ label: `comfy-vast:${server.id}` });
      await w.service.reconcile();
      expect(destroyed()).toEqual([]);
      const adopted = records().find((r) => r.vastId === stray);
      expect(adopted).toMatchObject({ name: `adopted-${stray}`, status: 'running' });
      expect(w.fake.instance(stray)).toMatchObject({ label: `comfy-vast:${adopted!.id}` });
      expect(w.service.get(1, server.id).vastId).toBe(server.vastId);
    });

    it('adopts, never destroys, an instance labelled for a deleted server that had rented another one', async () => {
      const server = await w.service.create(1, RTX);
      await w.service.delete(1, server.id);
      const stray = w.fake.addInstance({ label: `comfy-vast:${server.id}` });
      await w.service.reconcile();
      expect(w.fake.instance(stray)).toBeDefined();
      expect(records().find((r) => r.vastId === stray)).toMatchObject({ status: 'running', name: `adopted-${stray}` });
    });

    it('does not link a server whose rent answer was lost to an instance another server holds', async () => {
      w.fake.inject('create', { status: 502, text: 'Bad Gateway' });
      await expect(w.service.create(1, RTX)).rejects.toMatchObject({ code: 'VAST_API_ERROR' });
      const vastId = w.fake.addInstance({ label: 'comfy-vast:1' });
      const holder = await w.service.create(1, { name: 'holder', vastId });
      await w.service.reconcile();
      expect(w.service.get(1, 1)).toMatchObject({ status: 'error', vastId: null });
      expect(w.service.get(1, holder.id)).toMatchObject({ status: 'running', vastId });
      expect(w.fake.instance(vastId)).toMatchObject({ label: `comfy-vast:${holder.id}` });
      expect(destroyed()).toEqual([]);
    });
  });

  it('marks a server deleted when its instance was destroyed elsewhere', async () => {
    const { id, vastId } = await w.service.create(1, RTX);
    const statuses: string[] = [];
    w.service.on('server:status', (e) => statuses.push(`${e.previous}->${e.server.status}`));
    // As the Vast console would: destroyed with the account's key, not through comfy-vast.
    const res = await fetch(`${w.fake.url}/api/v0/instances/${vastId}/`, { method: 'DELETE', headers: { authorization: `Bearer ${w.fake.apiKey}` } });
    expect(res.status).toBe(200);
    await w.service.reconcile();
    expect(w.store.collection(serversCollection).get(id)).toMatchObject({ status: 'deleted', statusReason: 'The instance no longer exists on Vast.ai' });
    expect(statuses).toEqual(['creating->deleted']);
  });

  it('reports an instance that exited with the reason', async () => {
    const { id, vastId } = await w.service.create(1, RTX);
    w.fake.forceStatus(vastId!, { actual_status: 'exited', status_msg: 'exit code 137' });
    await w.service.reconcile();
    expect(w.service.get(1, id)).toMatchObject({ status: 'error', statusReason: 'The container exited: exit code 137' });
  });

  it('keeps records as they are when Vast cannot be listed, and catches up on the next pass', async () => {
    const { id } = await w.service.create(1, RTX);
    await w.clock.advance(31_000);
    w.fake.inject('list', { status: 400, body: { success: false, error: 'invalid_token', msg: 'Invalid pagination token.' } });
    await w.service.reconcile();
    expect(w.service.get(1, id).status).toBe('creating');
    expect(w.log.lines.some((l) => l.startsWith('warn') && l.includes('Could not list Vast.ai instances'))).toBe(true);
    await w.service.reconcile();
    expect(w.service.get(1, id).status).toBe('running');
  });

  it('polls on the injected clock with one paged list per pass, never one call per instance', async () => {
    for (let i = 0; i < 3; i++) await w.service.create(1, RTX);
    for (let i = 0; i < 27; i++) w.fake.addInstance();
    w.service.startReconciler();
    for (let pass = 1; pass <= 3; pass++) {
      await w.clock.advance(pass === 1 ? 0 : 10_000);
      await vi.waitFor(() => expect(listCalls()).toBe(pass * 2));
      await vi.waitFor(() => expect(w.clock.pendingTimers).toBe(1));
    }
    expect(w.fake.calls().filter((c) => /^\/api\/v0\/instances\/\d+\/$/.test(c.path) && c.method === 'GET')).toEqual([]);
  });

  it('never logs the API key or an instance password', async () => {
    const { id } = await w.service.create(1, RTX);
    const password = records()[0]!.comfyToken!;
    await w.clock.advance(31_000);
    await w.service.reconcile();
    w.fake.addInstance({ label: 'comfy-vast:99', env: { WEB_PASSWORD: 'adopted-secret' } });
    await w.service.reconcile();
    await w.service.stop(1, id);
    await w.service.delete(1, id);
    expect(w.log.lines.length).toBeGreaterThan(3);
    for (const line of w.log.lines) {
      expect(line).not.toContain(w.fake.apiKey);
      expect(line).not.toContain('adopted-secret');
      expect(line).not.toContain(password);
    }
  });

  describe('while the list is on its way', () => {
    /** A client whose list answer is held back after Vast produced it: the only way to stage the race on purpose. */
    function gated() {
      let release!: () => void;
      let taken!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const listTaken = new Promise<void>((r) => (taken = r));
      class HeldList extends VastClient {
        override async listInstances(): Promise<VastInstance[]> {
          const all = await super.listInstances();
          taken();
          await gate;
          return all;
        }
      }
      const vast = new HeldList({ apiKey: w.fake.apiKey, baseUrl: w.fake.url, clock: w.clock, minIntervalsMs: NO_SPACING });
      return { service: new ServerService({ store: w.store, vast, clock: w.clock }), release, listTaken };
    }

    it('does not take a server rented meanwhile for a deleted one, nor adopt its instance', async () => {
      const { service, release, listTaken } = gated();
      const pass = service.reconcile();
      await listTaken;
      const created = await service.create(1, RTX);
      release();
      await pass;
      expect(service.get(1, created.id).status).toBe('creating');
      expect(records()).toHaveLength(1);
    });

    it('does not undo a stop made meanwhile', async () => {
      const { id } = await w.service.create(1, RTX);
      await w.clock.advance(31_000);
      await w.service.reconcile();
      expect(w.service.get(1, id).status).toBe('running');
      const { service, release, listTaken } = gated();
      const pass = service.reconcile();
      await listTaken;
      await service.stop(1, id);
      release();
      await pass;
      expect(service.get(1, id).status).toBe('stopping');
    });
  });
});
