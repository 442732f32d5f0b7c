/** One machine's offer as the fake keeps it; the search answer is derived from it. */
export interface FakeOffer {
  id: number;
  machine_id: number;
  host_id: number;
  gpu_name: string;
  num_gpus: number;
  gpu_ram: number;
  cpu_name: string;
  cpu_cores: number;
  cpu_cores_effective: number;
  cpu_ram: number;
  disk_space: number;
  /** $/hour for the GPUs and compute, without disk. */
  dph_base: number;
  /** $/GB/month of disk. */
  storage_cost: number;
  reliability: number;
  verified: boolean;
  rentable: boolean;
  external: boolean;
  direct_port_count: number;
  /** Vast's text, "California, US". */
  geolocation: string;
  inet_up: number;
  inet_down: number;
  cuda_max_good: number;
  public_ipaddr: string;
}

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
 * A realistic catalogue: six GPU models in several counts, ten single-GPU machines and four of each larger size spread over fourteen places, prices
 * around the market's, and a share of offers that a careful client must refuse (unverified, unreliable, no direct
 * ports).
 */
export function defaultCatalogue(): FakeOffer[] {
  const random = seeded(20260101);
  const offers: FakeOffer[] = [];
  let id = 4_000_000;
  let machine = 10_000;
  for (const gpu of GPUS) {
    for (const count of gpu.counts) {
      for (let m = 0; m < (count === 1 ? 10 : 4); m++) {
        const r = random();
        offers.push({
          id: ++id,
          machine_id: ++machine,
          host_id: 100 + (machine % 37),
          gpu_name: gpu.name,
          num_gpus: count,
          gpu_ram: gpu.ram,
          cpu_name: r < 0.5 ? 'AMD EPYC 7B13 64-Core Processor' : 'Intel Xeon Gold 6338',
          cpu_cores: 32 * count,
          cpu_cores_effective: 8 * count + Math.floor(random() * 8),
          cpu_ram: 64_000 * count + Math.floor(random() * 32) * 1000,
          disk_space: 200 + Math.floor(random() * 1800),
          dph_base: round(gpu.price * count * (0.85 + random() * 0.45)),
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
        });
      }
    }
  }
  return offers;
}

function round(n: number): number {
  return Math.round(n * 10000) / 10000;
}
