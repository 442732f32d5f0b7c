import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { ComfyVastError, ManualClock, VastClient, buildLaunchSettings, type VastClientOptions } from '@comfy-vast/core';
import { createServer } from 'node:net';
import { captureLogger, drive, NO_SPACING } from './helpers.js';

let fake: FakeVast;
let clock: ManualClock;
let log: ReturnType<typeof captureLogger>;

function client(overrides: Partial<VastClientOptions> = {}): VastClient {
  return new VastClient({ apiKey: fake.apiKey, baseUrl: fake.url, clock, logger: log.logger, minIntervalsMs: NO_SPACING, random: () => 0.5, ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<ComfyVastError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComfyVastError);
  return error as ComfyVastError;
}

const settings = (serverId: number) => buildLaunchSettings({ serverId, disk: 40, webPassword: 'pw-123' });

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  log = captureLogger();
  fake = await startFakeVast({ now: () => clock.now(), intervalsMs: NO_SPACING, speed: 1 });
});

afterEach(async () => {
  await fake.close();
});

describe('VastClient against the fake Vast.ai', () => {
  it('searches offers with Vast filters and drops fields we do not model', async () => {
    const offers = await client().searchOffers({ gpu_name: { eq: 'RTX 4090' }, num_gpus: { eq: 1 }, order: [['dph_total', 'asc']], allocated_storage: 40 });
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every((o) => o.gpu_name === 'RTX 4090' && o.num_gpus === 1)).toBe(true);
    const prices = offers.map((o) => o.dph_total);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    expect(Object.keys(offers[0]!)).not.toContain('score');
  });

  it('trims the stray whitespace Vast leaves in strings', async () => {
    await fake.close();
    fake = await startFakeVast({ now: () => clock.now(), intervalsMs: NO_SPACING, messyStrings: true });
    const [offer] = await client().searchOffers({ gpu_name: { eq: 'RTX 3090' } });
    expect(offer!.gpu_name).toBe('RTX 3090');
    expect(offer!.geolocation).toMatch(/^\S.*\S$/);
    const id = await client().createInstance(offer!.id, settings(7));
    const shown = await client().getInstance(id);
    expect(shown!.label).toBe('comfy-vast:7');
    expect(shown!.actual_status).toBe('loading');
    expect(shown!.public_ipaddr).toBe('127.0.0.1');
  });

  it('rents an offer and returns new_contract as the instance id', async () => {
    const [offer] = await client().searchOffers({ gpu_name: { eq: 'RTX 4090' } });
    const id = await client().createInstance(offer!.id, settings(1));
    expect(id).not.toBe(offer!.id);
    const shown = await client().getInstance(id);
    expect(shown).toMatchObject({ id, intended_status: 'running', actual_status: 'loading' });
    expect(shown!.ports).toBeUndefined();
  });

  it('shows mapped ports only once the instance runs, with HostPort as a string', async () => {
    const [offer] = await client().searchOffers({ gpu_name: { eq: 'L40S' } });
    const id = await client().createInstance(offer!.id, settings(2));
    await clock.advance(31_000);
    const shown = await client().getInstance(id);
    expect(shown!.actual_status).toBe('running');
    expect(shown!.ports?.['8188/tcp']?.[0]?.HostPort).toMatch(/^\d+$/);
    expect(shown!.ports?.['22/tcp']?.[0]?.HostPort).toMatch(/^\d+$/);
  });

  it('answers null for an instance Vast does not know', async () => {
    expect(await client().getInstance(99)).toBeNull();
  });

  it('lists every instance across pages of 25 by following next_token', async () => {
    const ids = Array.from({ length: 31 }, () => fake.addInstance());
    const listed = await client().listInstances();
    expect(listed.map((i) => i.id)).toEqual(ids);
    expect(fake.calls().filter((c) => c.path === '/api/v1/instances/')).toHaveLength(2);
  });

  it('stops, starts, labels and destroys an instance', async () => {
    const id = fake.addInstance();
    const vast = client();
    await vast.stopInstance(id);
    expect((await vast.getInstance(id))!.intended_status).toBe('stopped');
    await vast.startInstance(id);
    expect((await vast.getInstance(id))!.intended_status).toBe('running');
    await vast.setLabel(id, 'comfy-vast:12');
    expect((await vast.getInstance(id))!.label).toBe('comfy-vast:12');
    await vast.destroyInstance(id);
    expect(await vast.getInstance(id)).toBeNull();
  });

  it('registers account SSH keys and attaches one to an instance', async () => {
    const vast = client();
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyMaterial comfy-vast';
    const added = await vast.addSshKey(key);
    expect(added?.public_key).toBe(key);
    expect((await vast.listSshKeys()).map((k) => k.public_key)).toEqual([key]);
    const id = fake.addInstance();
    await expect(vast.attachSshKey(id, key)).resolves.toBeUndefined();
  });

  it('reads the current user and keeps the key out of the result', async () => {
    const user = await client().getCurrentUser();
    expect(user.credit).toBe(25.5);
    expect(JSON.stringify(user)).not.toContain(fake.apiKey);
  });
});

describe('VastClient failures', () => {
  it('waits and retries after a plain-text 429, then succeeds', async () => {
    fake.setInterval('search', 1_000);
    const vast = client();
    await vast.searchOffers({});
    const offers = await drive(clock, vast.searchOffers({}));
    expect(offers.length).toBeGreaterThan(0);
    expect(fake.calls().filter((c) => c.path === '/api/v0/bundles/')).toHaveLength(3);
    expect(log.lines.some((l) => l.startsWith('warn') && l.includes('"status":429'))).toBe(true);
  });

  it('spaces calls to one endpoint by its minimum interval on the injected clock', async () => {
    const vast = client({ minIntervalsMs: { ...NO_SPACING, list: 1_000 } });
    await vast.listInstances();
    const second = vast.listInstances();
    await Promise.resolve();
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1_000);
    await expect(second).resolves.toEqual([]);
  });

  it('retries 502, 503 and 504 with backoff', async () => {
    fake.inject('list', { status: 502, text: '<html>Bad Gateway</html>' });
    fake.inject('list', { status: 503, body: { detail: 'Service Unavailable' } });
    fake.inject('list', { status: 504, text: 'Gateway Timeout' });
    const id = fake.addInstance();
    const listed = await drive(clock, client().listInstances());
    expect(listed.map((i) => i.id)).toEqual([id]);
  });

  it('gives up on a persistent 503 once the deadline has passed', async () => {
    fake.inject('user', { status: 503, text: 'Service Unavailable', times: 1000 });
    const error = await rejection(drive(clock, client({ backoff: { deadlineMs: 10_000 } }).getCurrentUser()));
    expect(error.code).toBe('VAST_API_ERROR');
    expect(error.details).toMatchObject({ vastStatus: 503 });
  });

  it('does not retry a rent on 5xx: the instance may exist, the label lets the reconciler find it', async () => {
    fake.inject('create', { status: 502, text: 'Bad Gateway' });
    const [offer] = await client().searchOffers({});
    const error = await rejection(client().createInstance(offer!.id, settings(3)));
    expect(error.details).toMatchObject({ vastStatus: 502 });
    expect(fake.calls().filter((c) => c.method === 'PUT')).toHaveLength(1);
  });

  it('reports connection failures after retrying', async () => {
    const port = await closedPort();
    const vast = client({ baseUrl: `http://127.0.0.1:${port}`, backoff: { deadlineMs: 5_000 } });
    const error = await rejection(drive(clock, vast.listInstances()));
    expect(error.code).toBe('VAST_API_ERROR');
    expect(error.details.vastError).toBe('ECONNREFUSED');
  });

  it('answers the deprecated v0 list with 410, which the client never calls', async () => {
    const res = await fetch(`${fake.url}/api/v0/instances/`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: 'deprecated_endpoint' });
    await client().listInstances();
    expect(fake.calls().filter((c) => c.path === '/api/v0/instances/')).toHaveLength(1);
  });

  it('turns a 410 no_such_ask into VAST_API_ERROR with the status and error word', async () => {
    fake.inject('create', { status: 410, body: { success: false, error: 'no_such_ask', msg: 'error 410/3603: no_such_ask no longer available' } });
    const error = await rejection(client().createInstance(1, settings(4)));
    expect(error.details).toMatchObject({ vastStatus: 410, vastError: 'no_such_ask' });
    expect(error.message).toContain('no longer available');
  });

  it('gives a clear message for a bad key on the 404 auth_error path, without the key', async () => {
    const id = fake.addInstance();
    const bad = client({ apiKey: 'not-the-key-0123456789' });
    const error = await rejection(bad.getInstance(id));
    expect(error.details).toMatchObject({ vastStatus: 404, vastError: 'auth_error', auth: true });
    expect(error.message).toMatch(/rejected the API key/);
    expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('not-the-key-0123456789');
  });

  it('gives the same clear message for a 401', async () => {
    const error = await rejection(client({ apiKey: 'wrong' }).listInstances());
    expect(error.details).toMatchObject({ vastStatus: 401, auth: true });
  });

  it('treats success:false on a 200 as a failure', async () => {
    fake.inject('list', { status: 200, body: { success: false, error: 'invalid_request', msg: 'bad select_filters' } });
    const error = await rejection(client().listInstances());
    expect(error.details).toMatchObject({ vastStatus: 200, vastError: 'invalid_request', vastMessage: 'bad select_filters' });
  });

  it('treats an empty or non-JSON list answer as an error, never as no instances', async () => {
    fake.inject('list', { status: 200, text: '' });
    const error = await rejection(client().listInstances());
    expect(error.details.vastError).toBe('invalid_response');
  });

  it('reads message and detail error shapes', async () => {
    fake.inject('manage', { status: 400, body: { message: 'state must be running or stopped' } });
    fake.inject('destroy', { status: 403, body: { detail: 'not_authorized' } });
    const id = fake.addInstance();
    expect((await rejection(client().stopInstance(id))).details).toMatchObject({ vastStatus: 400, vastMessage: 'state must be running or stopped' });
    expect((await rejection(client().destroyInstance(id))).details).toMatchObject({ vastStatus: 403, auth: true });
  });

  it('rejects an answer of the wrong shape with the fields at fault', async () => {
    fake.inject('show', { status: 200, body: { instances: { id: 'twelve' } } });
    const error = await rejection(client().getInstance(12));
    expect(error.details.fields).toHaveProperty(['instances.id']);
  });

  it('never writes the key into a log line or an error', async () => {
    fake.setInterval('list', 1_000);
    const vast = client();
    await vast.getCurrentUser();
    await vast.listInstances();
    await drive(clock, vast.listInstances());
    fake.inject('user', { status: 400, text: `bad request for key ${fake.apiKey}` });
    const error = await rejection(vast.getCurrentUser());
    expect(error.message).toContain('[redacted]');
    expect(log.lines.length).toBeGreaterThan(0);
    for (const text of [...log.lines, error.message, JSON.stringify(error.details)]) expect(text).not.toContain(fake.apiKey);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
