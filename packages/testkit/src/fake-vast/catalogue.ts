import { z } from 'zod';

/** One offer as the fake keeps it; the search answer is derived from it. Offers of one machine share its GPUs. */
export const fakeOfferSchema = z.object({
  id: z.number().int(),
  machine_id: z.number().int(),
  host_id: z.number().int(),
  gpu_name: z.string(),
  num_gpus: z.number().int(),
  gpu_ram: z.number(),
  cpu_name: z.string(),
  cpu_cores: z.number(),
  cpu_cores_effective: z.number(),
  cpu_ram: z.number(),
  disk_space: z.number(),
  /** $/hour for the GPUs and compute, without disk. */
  dph_base: z.number(),
  /** $/GB/month of disk. */
  storage_cost: z.number(),
  reliability: z.number(),
  verified: z.boolean(),
  rentable: z.boolean(),
  external: z.boolean(),
  direct_port_count: z.number().int(),
  /** Vast's text, "California, US". */
  geolocation: z.string(),
  inet_up: z.number(),
  inet_down: z.number(),
  cuda_max_good: z.number(),
  public_ipaddr: z.string(),
});
export type FakeOffer = z.infer<typeof fakeOfferSchema>;

const GPUS: ReadonlyArray<{ name: string; ram: number; price: number; counts: number[] }> = [
  { name: 'RTX 4090', ram: 24564, price: 0.35, counts: [1, 2, 4, 8] },
  { name: 'RTX 3090', ram: 24576, price: 0.18, counts: [1, 2, 4] },
  { name: 'RTX A6000', ram: 49140, price: 0.45, counts: [1, 2, 4] },
  { name: 'L40S', ram: 46068, price: 0.75, counts: [1, 2, 8] },
  { name: 'A100 SXM4', ram: 81920, price: 1.1, counts: [1, 2, 8] },
  { name: 'H100 SXM', ram: 81559, price: 2.1, counts: [1, 8] },
];

const PLACES = [
  'California, US',
  'Oregon, US',
  'Texas, US',
  'Virginia, US',
  'New York, US',
  'Quebec, CA',
  'Germany, DE',
  'Netherlands, NL',
  'France, FR',
  'Sweden, SE',
  'Japan, JP',
  'Singapore, SG',
  'Australia, AU',
  'Brazil, BR',
];

/** A small deterministic generator, so the catalogue is the same on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A realistic catalogue: six GPU models on machines of several sizes (ten single-GPU machines and four of each larger
 * size per model) spread over fourteen places, prices around the market's, and a share of machines that a careful
 * client must refuse (unverified, unreliable, no direct ports). A machine offers each GPU count up to its size, as
 * Vast lists a machine once per count it can rent; renting takes GPUs from the machine, so a 1-GPU offer of an
 * 8-GPU machine can be rented eight times.
 */
export function defaultCatalogue(): FakeOffer[] {
  const random = seeded(20260101);
  const offers: FakeOffer[] = [];
  let id = 4_000_000;
  let machine = 10_000;
  for (const gpu of GPUS) {
    for (const size of gpu.counts) {
      for (let m = 0; m < (size === 1 ? 10 : 4); m++) {
        machine++;
        const host = {
          machine_id: machine,
          host_id: 100 + (machine % 37),
          gpu_name: gpu.name,
          gpu_ram: gpu.ram,
          cpu_name: random() < 0.5 ? 'AMD EPYC 7B13 64-Core Processor' : 'Intel Xeon Gold 6338',
          disk_space: 200 + Math.floor(random() * 1800),
          storage_cost: round(0.1 + random() * 0.1),
          reliability: round([0.999, 0.995, 0.991, 0.97, 0.92][Math.floor(random() * 5)]!),
          verified: random() > 0.15,
          rentable: true,
          external: false,
          direct_port_count: [0, 16, 64, 200][Math.floor(random() * 4)]!,
          geolocation: PLACES[Math.floor(random() * PLACES.length)]!,
          inet_up: 200 + Math.floor(random() * 1800),
          inet_down: 500 + Math.floor(random() * 4500),
          cuda_max_good: 12.4,
          public_ipaddr: '127.0.0.1',
        };
        const priceFactor = 0.85 + random() * 0.45;
        for (const count of gpu.counts.filter((c) => c <= size)) {
          offers.push({
            ...host,
            id: ++id,
            num_gpus: count,
            cpu_cores: 32 * count,
            cpu_cores_effective: 8 * count + Math.floor(random() * 8),
            cpu_ram: 64_000 * count + Math.floor(random() * 32) * 1000,
            dph_base: round(gpu.price * count * priceFactor),
          });
        }
      }
    }
  }
  return offers;
}

function round(n: number): number {
  return Math.round(n * 10000) / 10000;
}
