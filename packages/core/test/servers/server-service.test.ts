import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfy } from '@comfy-vast/testkit';
import { ComfyVastError, instanceEnv, serversCollection, vastInstanceSchema, type ServerEvents } from '@comfy-vast/core';
import { RTX, world, type World } from './setup.js';

let w: World;
beforeEach(async () => {
  w = await world({ sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests comfy-vast' });
});
afterEach(async () => {
  await w.close();
});

const ALICE = 1;
const BOB = 2;

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<ComfyVastError> {
  const error = await (typeof promise === 'function' ? Promise.resolve().then(promise) : promise).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComfyVastError);
  return error as ComfyVastError;
}

function record(id: number) {
  return w.store.collection(serversCollection).get(id)!;
}

describe('renting and running a server', () => {
  it('creates with the contract fields, then follows the instance to running and launched', async () => {
    const events: Array<[keyof ServerEvents, string]> = [];
    for (const name of ['server:created', 'server:status', 'server:launched'] as const) {
      w.service.on(name, (e) => events.push([name, e.server.status]));
    }
    const created = await w.service.create(ALICE, RTX);
    expect(created).toMatchObject({ id: 1, name: 'Render box', gpu: 'RTX 4090', status: 'creating', isLaunched: false, provider: 'vast' });
    expect(created.vastId).toBe(record(1).vastId);
    expect(w.fake.instance(created.vastId!)).toBeDefined();
    expect(created).toMatchObject({ pricePerHour: record(1).pricePerHour, storagePerHour: record(1).storagePerHour, costSoFar: 0 });
    expect(created.pricePerHour).toBeGreaterThan(created.storagePerHour);
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);

    await w.service.reconcile();
    expect(w.service.get(ALICE, 1).status).toBe('creating');
    await w.clock.advance(31_000);
    await w.service.reconcile();
    const running = w.service.get(ALICE, 1);
    expect(running).toMatchObject({ status: 'running', isLaunched: true });
    expect(running.comfyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.ssh).toMatchObject({ host: '127.0.0.1', user: 'root' });
    expect(events).toEqual([
      ['server:created', 'creating'],
      ['server:status', 'running'],
      ['server:launched', 'running'],
    ]);
  });

  it('rents with the password, label and SSH key, and keeps the password out of the API shape', async () => {
    const created = await w.service.create(ALICE, RTX);
    const instance = vastInstanceSchema.parse(w.fake.instance(created.vastId!));
    const password = instanceEnv(instance, 'WEB_PASSWORD')!;
    expect(password.length).toBeGreaterThan(20);
    expect(record(created.id).comfyToken).toBe(password);
    expect(instance.label).toBe(`comfy-vast:${created.id}`);
    expect(JSON.stringify([created, w.service.list(ALICE)])).not.toContain(password);
    expect(w.fake.calls().filter((c) => c.path === '/api/v0/ssh/').map((c) => c.method)).toEqual(['GET', 'POST']);
    expect(w.fake.calls().some((c) => c.path === `/api/v0/instances/${created.vastId}/ssh/`)).toBe(true);
  });

  it('gives the generation service the URL and token of a running ComfyUI', async () => {
    const { id } = await w.service.create(ALICE, RTX);
    expect((await failure(() => w.service.getComfyTarget(ALICE, id))).code).toBe('SERVER_NOT_RUNNING');
    await w.clock.advance(31_000);
    await w.service.reconcile();
    const target = w.service.getComfyTarget(ALICE, id);
    expect((await fetch(`${target.url}/system_stats`, { headers: { authorization: `Bearer ${target.token}` } })).status).toBe(200);
    expect((await fetch(`${target.url}/system_stats`)).status).toBe(401);
    expect(w.service.listRunning()).toEqual([{ userId: ALICE, server: w.service.get(ALICE, id) }]);
  });

  it('stops, starts and deletes through Vast, with the spec answers', async () => {
    const { id, vastId } = await w.service.create(ALICE, RTX);
    await w.clock.advance(31_000);
    await w.service.reconcile();

    expect(await w.service.stop(ALICE, id)).toEqual({ status: 'stopping', initiated: true });
    expect(w.fake.instance(vastId!)).toMatchObject({ intended_status: 'stopped' });
    await w.clock.advance(6_000);
    await w.service.reconcile();
    expect(w.service.get(ALICE, id)).toMatchObject({ status: 'stopped', isLaunched: false, comfyUrl: null });

    expect(await w.service.start(ALICE, id)).toEqual({ status: 'starting', initiated: true });
    await w.service.reconcile();
    expect(w.service.get(ALICE, id).status).toBe('starting');
    await w.clock.advance(31_000);
    await w.service.reconcile();
    expect(w.service.get(ALICE, id)).toMatchObject({ status: 'running', isLaunched: true });

    expect(await w.service.delete(ALICE, id)).toBeUndefined();
    expect(w.fake.instance(vastId!)).toBeUndefined();
    expect(w.service.list(ALICE)).toEqual([]);
    expect((await failure(() => w.service.get(ALICE, id))).code).toBe('SERVER_NOT_FOUND');
  });

  it('counts the full price while running and the disk while stopped', async () => {
    const { id } = await w.service.create(ALICE, RTX);
    await w.clock.advance(31_000);
    await w.service.reconcile();
    const running = record(id);
    const before = w.service.get(ALICE, id).costSoFar;
    await w.clock.advance(3_600_000);
    expect(w.service.get(ALICE, id).costSoFar - before).toBeCloseTo(running.pricePerHour, 3);
    await w.service.stop(ALICE, id);
    await w.clock.advance(6_000);
    await w.service.reconcile();
    const stopped = w.service.get(ALICE, id).costSoFar;
    await w.clock.advance(3_600_000);
    expect(w.service.get(ALICE, id).costSoFar - stopped).toBeCloseTo(record(id).storagePerHour, 4);
    expect(record(id).storagePerHour).toBeGreaterThan(0);
    expect(record(id).storagePerHour).toBeLessThan(running.pricePerHour);
  });

  it('answers 422 INSUFFICIENT_RESOURCES with what was asked, and keeps no record', async () => {
    const error = await failure(w.service.create(ALICE, { ...RTX, gpu: 'H100 SXM', gpuCount: 8, ram: 4000 }));
    expect(error).toMatchObject({ code: 'INSUFFICIENT_RESOURCES', details: { requested: { gpu: 'H100 SXM', gpuCount: 8 } } });
    expect(w.store.collection(serversCollection).count()).toBe(0);
  });

  it('refuses a bad request with VALIDATION_ERROR naming the field', async () => {
    const error = await failure(w.service.create(ALICE, { ...RTX, gpuCount: 0 }));
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: { gpuCount: expect.any(String) } } });
    expect((await failure(w.service.create(ALICE, { ...RTX, location: 'Atlantis' }))).details).toMatchObject({ fields: { location: expect.any(String) } });
  });

  it('lists offers to look at before renting', async () => {
    const offers = await w.service.findOffers({ gpu: 'RTX 4090', location: 'US' });
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every((o) => o.gpu === 'RTX 4090' && o.location!.endsWith('US') && o.pricePerHour > 0)).toBe(true);
  });
});

describe('ownership', () => {
  it("answers another user's server exactly as a missing one", async () => {
    const { id } = await w.service.create(ALICE, RTX);
    for (const act of [() => w.service.get(BOB, id), () => w.service.start(BOB, id), () => w.service.stop(BOB, id), () => w.service.delete(BOB, id), () => w.service.getComfyTarget(BOB, id)]) {
      const theirs = await failure(act);
      expect(theirs.code).toBe('SERVER_NOT_FOUND');
      expect(theirs.message).toBe(`Server ${id} not found`);
    }
    const missing = await failure(() => w.service.get(ALICE, 999));
    expect(missing.message).toBe('Server 999 not found');
    expect(w.service.list(BOB)).toEqual([]);
  });
});

describe('attaching', () => {
  it('attaches any ComfyUI: start and stop are refused, delete only forgets it', async () => {
    const comfy = await startFakeComfy({ token: 'comfy-secret' });
    try {
      const server = await w.service.create(ALICE, { name: 'Desk PC', comfyUrl: `${comfy.url}/`, comfyToken: 'comfy-secret' });
      expect(server).toMatchObject({ provider: 'attached', status: 'running', isLaunched: true, vastId: null, pricePerHour: 0, comfyUrl: comfy.url });
      expect(JSON.stringify(server)).not.toContain('comfy-secret');
      expect(w.service.getComfyTarget(ALICE, server.id)).toEqual({ url: comfy.url, token: 'comfy-secret', status: 'running' });
      expect(await failure(w.service.start(ALICE, server.id))).toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/attached ComfyUI/) });
      expect((await failure(w.service.stop(ALICE, server.id))).code).toBe('NOT_SUPPORTED');
      await w.service.delete(ALICE, server.id);
      expect((await fetch(`${comfy.url}/system_stats`, { headers: { authorization: 'Bearer comfy-secret' } })).status).toBe(200);
      expect(w.fake.calls().filter((c) => c.method === 'DELETE')).toEqual([]);
    } finally {
      await comfy.close();
    }
  });

  it('marks an attached ComfyUI that does not answer as error, and running once it does', async () => {
    const comfy = await startFakeComfy({ token: 'right' });
    try {
      const server = await w.service.create(ALICE, { name: 'Wrong token', comfyUrl: comfy.url, comfyToken: 'wrong' });
      expect(server).toMatchObject({ status: 'error', isLaunched: false, statusReason: expect.stringMatching(/system_stats/) });
    } finally {
      await comfy.close();
    }
  });

  it('attaches an existing Vast instance by id, once', async () => {
    const vastId = w.fake.addInstance({ env: { WEB_PASSWORD: 'their-pw' } });
    const server = await w.service.create(ALICE, { name: 'Mine already', vastId: String(vastId) });
    expect(server).toMatchObject({ provider: 'vast', vastId, status: 'running' });
    expect(record(server.id).comfyToken).toBe('their-pw');
    expect((await failure(w.service.create(ALICE, { name: 'Again', vastId }))).code).toBe('CONFLICT');
    // Another user learns nothing: the answer is the one for an instance that does not exist.
    const foreign = await failure(w.service.create(BOB, { name: 'Again', vastId }));
    const missing = await failure(w.service.create(BOB, { name: 'Nope', vastId: 123 }));
    expect(foreign.code).toBe('NOT_FOUND');
    expect(foreign.message.replace(String(vastId), 'N')).toBe(missing.message.replace('123', 'N'));
  });

  it('works without a Vast key for attached ComfyUIs only', async () => {
    const { MemoryStore, ServerService } = await import('@comfy-vast/core');
    const service = new ServerService({ store: new MemoryStore(), clock: w.clock });
    expect((await failure(service.create(ALICE, RTX))).code).toBe('NOT_SUPPORTED');
  });
});

describe('on the simulated provider', () => {
  it('shows rented servers as simulated everywhere, and keeps them vast servers underneath for the reconciler', async () => {
    const sim = await world({ simulated: true });
    try {
      const shown: string[] = [];
      for (const name of ['server:created', 'server:status', 'server:launched'] as const) sim.service.on(name, (e) => shown.push(e.server.provider));
      const created = await sim.service.create(ALICE, RTX);
      const comfy = await startFakeComfy();
      try {
        const attached = await sim.service.create(ALICE, { name: 'own', comfyUrl: comfy.url });
        expect(attached.provider).toBe('attached');
      } finally {
        await comfy.close();
      }
      await sim.clock.advance(31_000);
      await sim.service.reconcile();
      await sim.service.reconcile();
      expect(created.provider).toBe('simulated');
      expect(sim.service.get(ALICE, created.id)).toMatchObject({ provider: 'simulated', status: 'running', isLaunched: true });
      expect(sim.service.list(ALICE).map((s) => s.provider)).toEqual(['simulated', 'attached']);
      expect(new Set(shown)).toEqual(new Set(['simulated', 'attached']));
      expect(sim.store.collection(serversCollection).get(created.id)!.provider).toBe('vast');
    } finally {
      await sim.close();
    }
  });
});
