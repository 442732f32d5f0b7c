import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';

let fake: FakeVast;
let now = 0;

const NO_LIMITS = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };

async function call(method: string, path: string, body?: unknown, key = fake.apiKey): Promise<{ status: number; type: string; json: any; text: string }> {
  const res = await fetch(fake.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', json, text };
}

const launch = { client_id: 'me', image: 'vastai/comfy:@vastai-automatic-tag', disk: 20, runtype: 'ssh_direc ssh_proxy', env: { '-p 8188:8188': '1', WEB_PASSWORD: 'pw' }, label: 'x' };

beforeEach(async () => {
  now = 1_000_000;
  fake = await startFakeVast({ now: () => now, intervalsMs: NO_LIMITS });
});
afterEach(async () => {
  await fake.close();
});

describe('fake Vast.ai', () => {
  it('offers a catalogue of several GPUs, places and prices, filtered and ordered as asked', async () => {
    const all = await call('POST', '/api/v0/bundles/', { limit: 1000 });
    const offers = all.json.offers as Array<Record<string, any>>;
    expect(new Set(offers.map((o) => o.gpu_name)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(offers.map((o) => o.geolocation.split(', ').at(-1))).size).toBeGreaterThanOrEqual(8);
    expect(new Set(offers.map((o) => o.reliability)).size).toBeGreaterThan(2);
    const some = await call('POST', '/api/v0/bundles/', { gpu_name: { eq: 'RTX 4090' }, geolocation: { in: ['US'] }, order: [['dph_total', 'asc']], allocated_storage: 100 });
    const prices = some.json.offers.map((o: any) => o.dph_total);
    expect(prices.length).toBeGreaterThan(0);
    expect(prices).toEqual([...prices].sort((a: number, b: number) => a - b));
    expect(some.json.offers.every((o: any) => o.gpu_name === 'RTX 4090' && o.geolocation.endsWith(', US'))).toBe(true);
    const o = some.json.offers[0];
    expect(o.dph_total).toBeCloseTo(o.dph_base + (o.storage_cost * 100) / 720, 5);
  });

  it('keeps the trailing slashes of the real paths', async () => {
    expect((await call('POST', '/api/v0/bundles', {})).status).toBe(404);
    expect((await call('GET', '/api/v0/users/current')).status).toBe(404);
  });

  it('answers the deprecated v0 list with 410', async () => {
    const res = await call('GET', '/api/v0/instances/');
    expect(res.status).toBe(410);
    expect(res.json).toMatchObject({ success: false, error: 'deprecated_endpoint' });
  });

  it('rents with new_contract as the instance id, and refuses the taken offer with no_such_ask', async () => {
    const [offer] = fake.offers();
    const rented = await call('PUT', `/api/v0/asks/${offer!.id}/`, launch);
    expect(rented.json).toMatchObject({ success: true, new_contract: expect.any(Number) });
    expect(rented.json.new_contract).not.toBe(offer!.id);
    const again = await call('PUT', `/api/v0/asks/${offer!.id}/`, launch);
    expect(again.status).toBe(404);
    expect(again.json).toMatchObject({ error: 'no_such_ask' });
  });

  it('refuses env sent as a string, as Vast does', async () => {
    const [offer] = fake.offers();
    const res = await call('PUT', `/api/v0/asks/${offer!.id}/`, { ...launch, env: '-p 8188:8188' });
    expect(res.status).toBe(400);
    expect(res.json.msg).toBe('env must be a dict');
  });

  it('loads, then runs with string HostPorts and a password-protected ComfyUI, then stops', async () => {
    const [offer] = fake.offers();
    const id = (await call('PUT', `/api/v0/asks/${offer!.id}/`, launch)).json.new_contract;
    let shown = (await call('GET', `/api/v0/instances/${id}/`)).json.instances;
    expect(shown).toMatchObject({ actual_status: 'loading', intended_status: 'running' });
    expect(shown.ports).toBeUndefined();
    now += 30_000;
    shown = (await call('GET', `/api/v0/instances/${id}/`)).json.instances;
    expect(shown.actual_status).toBe('running');
    const port = shown.ports['8188/tcp'][0].HostPort;
    expect(typeof port).toBe('string');
    const comfy = `http://${shown.public_ipaddr}:${port}/system_stats`;
    expect((await fetch(comfy)).status).toBe(401);
    expect((await fetch(comfy, { headers: { authorization: 'Bearer pw' } })).status).toBe(200);

    await call('PUT', `/api/v0/instances/${id}/`, { state: 'stopped' });
    shown = (await call('GET', `/api/v0/instances/${id}/`)).json.instances;
    expect(shown).toMatchObject({ actual_status: 'running', intended_status: 'stopped' });
    expect(shown.ports).toBeUndefined();
    await expect(fetch(comfy, { headers: { authorization: 'Bearer pw' } })).rejects.toThrow();
    now += 5_000;
    expect((await call('GET', `/api/v0/instances/${id}/`)).json.instances.actual_status).toBe('stopped');
  });

  it('scales delays by the speed factor', async () => {
    fake.setSpeed(1000);
    const [offer] = fake.offers();
    const id = (await call('PUT', `/api/v0/asks/${offer!.id}/`, launch)).json.new_contract;
    now += 30;
    expect(fake.instance(id)).toMatchObject({ actual_status: 'running' });
  });

  it('pages the v1 list by 25 with next_token, and refuses a bad token', async () => {
    for (let i = 0; i < 30; i++) fake.addInstance();
    const first = (await call('GET', '/api/v1/instances/?limit=25')).json;
    expect(first.instances).toHaveLength(25);
    expect(first.total_instances).toBe(30);
    const second = (await call('GET', `/api/v1/instances/?limit=25&after_token=${first.next_token}`)).json;
    expect(second.instances).toHaveLength(5);
    expect(second.next_token).toBeNull();
    expect((await call('GET', '/api/v1/instances/?after_token=%%%')).status).toBe(400);
  });

  it('answers a bad key with auth_error: 401, or 404 on show-one', async () => {
    expect((await call('GET', '/api/v1/instances/', undefined, 'bad')).status).toBe(401);
    const show = await call('GET', '/api/v0/instances/1/', undefined, 'bad');
    expect(show.status).toBe(404);
    expect(show.json).toMatchObject({ error: 'auth_error', msg: 'Invalid user key' });
  });

  it('answers 429 in plain text when an endpoint is called faster than its interval', async () => {
    fake.setInterval('list', 1_000);
    expect((await call('GET', '/api/v1/instances/')).status).toBe(200);
    const refused = await call('GET', '/api/v1/instances/');
    expect(refused.status).toBe(429);
    expect(refused.type).toMatch(/^text\/plain/);
    expect(refused.text).toBe('API requests too frequent endpoint threshold=1');
    now += 1_000;
    expect((await call('GET', '/api/v1/instances/')).status).toBe(200);
  });

  it('plays injected answers, then goes back to normal', async () => {
    fake.inject('user', { status: 503, text: 'Service Unavailable', times: 2 });
    expect((await call('GET', '/api/v0/users/current/')).status).toBe(503);
    expect((await call('GET', '/api/v0/users/current/')).status).toBe(503);
    expect((await call('GET', '/api/v0/users/current/')).status).toBe(200);
  });

  it('adds stray whitespace to strings when asked', async () => {
    await fake.close();
    fake = await startFakeVast({ now: () => now, intervalsMs: NO_LIMITS, messyStrings: true });
    fake.addInstance({ label: 'comfy-vast:1' });
    const [instance] = (await call('GET', '/api/v1/instances/')).json.instances;
    expect(instance.label).not.toBe('comfy-vast:1');
    expect(instance.label.trim()).toBe('comfy-vast:1');
  });

  it('forces a status on an instance', async () => {
    const id = fake.addInstance();
    fake.forceStatus(id, { actual_status: 'offline', status_msg: 'host disconnected' });
    expect(fake.instance(id)).toMatchObject({ actual_status: 'offline', status_msg: 'host disconnected' });
  });

  it('serves a ComfyUI from the factory it is given', async () => {
    await fake.close();
    const tokens: string[] = [];
    fake = await startFakeVast({
      now: () => now,
      intervalsMs: NO_LIMITS,
      startComfy: async ({ token }) => {
        tokens.push(token);
        return { url: 'http://127.0.0.1:1', close: async () => {} };
      },
    });
    const [offer] = fake.offers();
    await call('PUT', `/api/v0/asks/${offer!.id}/`, launch);
    expect(tokens).toEqual(['pw']);
  });
});
