import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import {
  ComfyVastError,
  ManualClock,
  VastClient,
  buildLaunchSettings,
  buildOfferQuery,
  findOffers,
  inRegion,
  offerMismatch,
  rentCheapestOffer,
  resolveLocation,
  serverRequirementsSchema,
  type VastOffer,
} from '@comfy-vast/core';
import { NO_SPACING } from './helpers.js';

const req = (input: Record<string, unknown>) => serverRequirementsSchema.parse(input);

describe('the offer query', () => {
  it('speaks Vast units and names: spaces in GPU names, RAM in MB x1000, disk priced by allocated_storage', () => {
    const query = buildOfferQuery(req({ gpu: 'RTX_4090', gpuCount: 2, cpuCores: 8, ram: 32, disk: 100, location: 'EU-West' }));
    expect(query).toMatchObject({
      gpu_name: { eq: 'RTX 4090' },
      num_gpus: { eq: 2 },
      cpu_cores_effective: { gte: 8 },
      cpu_ram: { gte: 32_000 },
      disk_space: { gte: 100 },
      reliability: { gte: 0.98 },
      rentable: { eq: true },
      verified: { eq: true },
      allocated_storage: 100,
      order: [['dph_total', 'asc']],
      geolocation: { in: ['GB', 'IE', 'FR', 'BE', 'NL', 'LU', 'ES', 'PT'] },
    });
  });

  it('takes the reliability floor and direct ports from the rules', () => {
    expect(buildOfferQuery(req({ gpu: 'L40S' }), { reliabilityFloor: 0.9, directPorts: 3 })).toMatchObject({
      reliability: { gte: 0.9 },
      direct_port_count: { gte: 3 },
    });
  });

  it('accepts country codes and named regions, and refuses anything else', () => {
    expect(resolveLocation('de')).toEqual({ countries: ['DE'] });
    expect(resolveLocation('us-east')?.countries).toEqual(['US']);
    expect(serverRequirementsSchema.safeParse({ gpu: 'RTX 4090', location: 'Mars' }).success).toBe(false);
  });

  it('places offers by the geolocation text, down to the US state for US regions', () => {
    const east = resolveLocation('US-East')!;
    expect(inRegion('Virginia, US', east)).toBe(true);
    expect(inRegion('California, US', east)).toBe(false);
    expect(inRegion('US', east)).toBe(false);
    expect(inRegion('Germany, DE', resolveLocation('EU')!)).toBe(true);
    expect(inRegion(null, resolveLocation('DE')!)).toBe(false);
  });
});

describe('re-checking offers on our side', () => {
  const good: VastOffer = {
    id: 1,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    cpu_cores_effective: 16,
    cpu_ram: 64_000,
    disk_space: 500,
    dph_total: 0.4,
    reliability: 0.995,
    verified: true,
    rentable: true,
    rented: false,
    direct_port_count: 20,
    geolocation: 'Texas, US',
  };
  const wanted = req({ gpu: 'RTX 4090', cpuCores: 8, ram: 32, disk: 100, location: 'US-Central', maxPrice: 1 });

  it('accepts an offer that meets everything', () => {
    expect(offerMismatch(good, wanted, { directPorts: 3 })).toBeNull();
  });

  it.each([
    ['gpu', { gpu_name: 'RTX 3090' }],
    ['gpuCount', { num_gpus: 2 }],
    ['cpuCores', { cpu_cores_effective: 4 }],
    ['ram', { cpu_ram: 31_999 }],
    ['disk', { disk_space: 99 }],
    ['reliability', { reliability: 0.97 }],
    ['reliability', { reliability: null }],
    ['directPorts', { direct_port_count: 2 }],
    ['rentable', { rented: true }],
    ['verified', { verified: false, verification: 'unverified' }],
    ['maxPrice', { dph_total: 1.2 }],
    ['location', { geolocation: 'Oregon, US' }],
  ])('refuses an offer whose %s is off', (reason, patch) => {
    expect(offerMismatch({ ...good, ...patch } as VastOffer, wanted, { directPorts: 3 })).toBe(reason);
  });
});

describe('finding and renting against the fake Vast.ai', () => {
  let fake: FakeVast;
  let vast: VastClient;

  beforeEach(async () => {
    fake = await startFakeVast({ intervalsMs: NO_SPACING });
    vast = new VastClient({ apiKey: fake.apiKey, baseUrl: fake.url, clock: new ManualClock(0), minIntervalsMs: NO_SPACING });
  });

  afterEach(async () => {
    await fake.close();
  });

  const rtx = req({ gpu: 'RTX 4090', gpuCount: 1, cpuCores: 8, ram: 32, disk: 40 });
  const settings = buildLaunchSettings({ serverId: 1, disk: 40, webPassword: 'pw' });

  it('keeps only offers that meet the request, cheapest first, even when Vast drops the filters', async () => {
    const filtered = await findOffers(vast, rtx, { directPorts: 3 });
    expect(filtered.length).toBeGreaterThan(0);
    fake.ignoreFilters(true);
    const unfiltered = await findOffers(vast, rtx, { directPorts: 3 });
    expect(unfiltered.map((o) => o.id)).toEqual(filtered.map((o) => o.id));
    expect(fake.offers().length).toBeGreaterThan(unfiltered.length);
  });

  it('finds offers in a named region', async () => {
    const offers = await findOffers(vast, req({ gpu: 'A100 SXM4', location: 'EU' }), { reliabilityFloor: 0.9 });
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every((o) => inRegion(o.geolocation, resolveLocation('EU')!))).toBe(true);
  });

  it('rents the cheapest matching offer', async () => {
    const [cheapest] = await findOffers(vast, rtx, { directPorts: 3 });
    const rented = await rentCheapestOffer(vast, rtx, settings, { directPorts: 3 });
    expect(rented.offer.id).toBe(cheapest!.id);
    expect(fake.instance(rented.instanceId)).toMatchObject({ label: 'comfy-vast:1' });
  });

  it('moves to the next offer when one was taken between search and rent', async () => {
    const [first, second] = await findOffers(vast, rtx, { directPorts: 3 });
    fake.inject('create', { status: 404, body: { success: false, error: 'no_such_ask', msg: 'error 404/3603: no_such_ask not available' } });
    fake.inject('create', { status: 409, body: { success: false, error: 'conflict', msg: 'already rented' } });
    const third = (await findOffers(vast, rtx, { directPorts: 3 }))[2];
    const rented = await rentCheapestOffer(vast, rtx, settings, { directPorts: 3 });
    expect([first!.id, second!.id]).not.toContain(rented.offer.id);
    expect(rented.offer.id).toBe(third!.id);
  });

  it('gives up after the bounded number of taken offers with INSUFFICIENT_RESOURCES', async () => {
    fake.inject('create', { status: 410, body: { success: false, error: 'no_such_ask', msg: 'no longer available' }, times: 2 });
    const error = await rentCheapestOffer(vast, rtx, settings, { directPorts: 3, maxAttempts: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyVastError);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_RESOURCES', details: { attempts: 2 } });
    expect(fake.instanceIds()).toEqual([]);
  });

  it('answers INSUFFICIENT_RESOURCES 422 with what was asked when nothing matches', async () => {
    const huge = req({ gpu: 'H100 SXM', gpuCount: 8, ram: 4000, disk: 100 });
    const error = await rentCheapestOffer(vast, huge, settings).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_RESOURCES', details: { requested: { gpu: 'H100 SXM', gpuCount: 8, ram: 4000 } } });
  });

  it('lets other rent failures through unchanged', async () => {
    fake.inject('create', { status: 400, body: { success: false, error: 'invalid_args', msg: 'bad image' } });
    await expect(rentCheapestOffer(vast, rtx, settings, { directPorts: 3 })).rejects.toMatchObject({ code: 'VAST_API_ERROR', details: { vastError: 'invalid_args' } });
  });
});
