import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCatalogue, startFakeVast, type FakeOffer, type FakeVast } from '@comfy-vast/testkit';

let fake: FakeVast;

const NO_LIMITS = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };
const launch = { image: 'vastai/comfy:@vastai-automatic-tag', disk: 50, runtype: 'ssh_direc ssh_proxy', env: { WEB_PASSWORD: 'pw' } };
/** What a careful client asks for one RTX 4090 with the server's defaults: reliable, verified, with direct ports. */
const oneRtx4090 = {
  gpu_name: { eq: 'RTX 4090' },
  num_gpus: { eq: 1 },
  cpu_cores_effective: { gte: 4 },
  cpu_ram: { gte: 16_000 },
  disk_space: { gte: 50 },
  reliability: { gte: 0.98 },
  direct_port_count: { gte: 3 },
  rentable: { eq: true },
  rented: { eq: false },
  verified: { eq: true },
  external: { eq: false },
  order: [['dph_total', 'asc']],
  allocated_storage: 50,
};

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(fake.url + path, { method, headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Rents the cheapest matching offer, as the client does; null once nothing matches. */
async function rentCheapest(query: Record<string, unknown>): Promise<number | null> {
  const [offer] = (await call('POST', '/api/v0/bundles/', query)).json.offers;
  if (!offer) return null;
  const rented = await call('PUT', `/api/v0/asks/${offer.id}/`, launch);
  expect(rented.status).toBe(200);
  return rented.json.new_contract;
}

beforeEach(async () => {
  fake = await startFakeVast({ intervalsMs: NO_LIMITS, startComfy: async () => ({ url: 'http://127.0.0.1:1', close: async () => {} }) });
});
afterEach(async () => {
  await fake.close();
});

describe('the default catalogue', () => {
  it('lets a newcomer rent an RTX 4090 with the default request many times over', async () => {
    const rented: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = await rentCheapest(oneRtx4090);
      expect(id, `rental ${i + 1}`).not.toBeNull();
      rented.push(id!);
    }
    expect(new Set(rented).size).toBe(20);
  });

  it('keeps an offer of a larger machine rentable while the machine has free GPUs, and frees them on destroy', async () => {
    const eight = defaultCatalogue().find((o) => o.num_gpus === 8)!;
    const single = defaultCatalogue().find((o) => o.machine_id === eight.machine_id && o.num_gpus === 1)!;
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await call('PUT', `/api/v0/asks/${single.id}/`, launch);
      expect(res.status, `rental ${i + 1}`).toBe(200);
      ids.push(res.json.new_contract);
    }
    expect((await call('PUT', `/api/v0/asks/${single.id}/`, launch)).json).toMatchObject({ error: 'no_such_ask' });
    expect(fake.offers().some((o) => o.machine_id === eight.machine_id)).toBe(false);
    await call('DELETE', `/api/v0/instances/${ids[0]}/`);
    expect(fake.offers().map((o) => o.id)).toContain(single.id);
    expect(fake.offers().map((o) => o.id)).not.toContain(eight.id);
  });

  it('gives each machine one place, reliability and verification across the GPU counts it offers', () => {
    const byMachine = new Map<number, FakeOffer[]>();
    for (const o of defaultCatalogue()) byMachine.set(o.machine_id, [...(byMachine.get(o.machine_id) ?? []), o]);
    expect([...byMachine.values()].some((offers) => offers.length > 1)).toBe(true);
    for (const offers of byMachine.values()) {
      const shared = offers.map((o) => [o.geolocation, o.reliability, o.verified, o.direct_port_count, o.gpu_name].join('|'));
      expect(new Set(shared).size).toBe(1);
    }
  });
});
