import { z } from 'zod';
import { inRegion, resolveLocation, type Region } from './regions.js';
import type { VastOffer } from './schemas.js';
import type { VastOfferQuery } from './vast-client.js';

/** What a server needs, as the create-server request says it (ram and disk in GB). */
export const serverRequirementsSchema = z.object({
  gpu: z.string().trim().min(1).max(64),
  gpuCount: z.number().int().min(1).max(16).default(1),
  cpuCores: z.number().int().min(1).max(256).default(4),
  ram: z.number().positive().max(4096).default(16),
  disk: z.number().positive().max(16384).default(50),
  location: z
    .string()
    .trim()
    .min(1)
    .refine((l) => resolveLocation(l) !== undefined, 'expected a two-letter country code or a region such as US-East, EU-West, Asia')
    .optional(),
  /** Highest acceptable price in $/hour, disk included. */
  maxPrice: z.number().positive().optional(),
});

export type ServerRequirements = z.output<typeof serverRequirementsSchema>;
export type ServerRequirementsInput = z.input<typeof serverRequirementsSchema>;

export interface OfferRules {
  /** Lowest accepted host reliability, 0–1 (default 0.98). */
  reliabilityFloor?: number;
  /** Direct ports the launch settings map (SSH and ComfyUI at least). */
  directPorts?: number;
  /** How many offers to ask for (default 64). */
  limit?: number;
}

export const DEFAULT_RELIABILITY_FLOOR = 0.98;

/** Vast spells GPU names with spaces ("RTX 4090"); the CLI accepts underscores, so do we. */
export function vastGpuName(gpu: string): string {
  return gpu.trim().replaceAll('_', ' ').replace(/\s+/g, ' ');
}

/**
 * The search body for `POST /api/v0/bundles/`: on-demand, verified, rentable offers with at least what was
 * asked, priced with `allocated_storage` = the disk to be rented, cheapest total first. RAM goes in MB (×1000).
 */
export function buildOfferQuery(req: ServerRequirements, rules: OfferRules = {}): VastOfferQuery {
  const query: VastOfferQuery = {
    gpu_name: { eq: vastGpuName(req.gpu) },
    num_gpus: { eq: req.gpuCount },
    cpu_cores_effective: { gte: req.cpuCores },
    cpu_ram: { gte: req.ram * 1000 },
    disk_space: { gte: req.disk },
    reliability: { gte: rules.reliabilityFloor ?? DEFAULT_RELIABILITY_FLOOR },
    direct_port_count: { gte: rules.directPorts ?? 1 },
    rentable: { eq: true },
    rented: { eq: false },
    verified: { eq: true },
    external: { eq: false },
    order: [['dph_total', 'asc']],
    type: 'on-demand',
    allocated_storage: req.disk,
    limit: rules.limit ?? 64,
  };
  const region = req.location === undefined ? undefined : resolveLocation(req.location);
  if (region) query.geolocation = { in: [...region.countries] };
  if (req.maxPrice !== undefined) query.dph_total = { lte: req.maxPrice };
  return query;
}

/**
 * Why an offer does not meet the request, or null when it does. Every offer Vast returns is checked again
 * here because Vast has been seen to ignore filters; a field the answer lacks counts as not met.
 */
export function offerMismatch(offer: VastOffer, req: ServerRequirements, rules: OfferRules = {}): string | null {
  const atLeast = (value: number | null | undefined, min: number) => value !== null && value !== undefined && value >= min;
  if ((offer.gpu_name ?? '').toLowerCase() !== vastGpuName(req.gpu).toLowerCase()) return 'gpu';
  if (offer.num_gpus !== req.gpuCount) return 'gpuCount';
  if (!atLeast(offer.cpu_cores_effective ?? offer.cpu_cores, req.cpuCores)) return 'cpuCores';
  if (!atLeast(offer.cpu_ram, req.ram * 1000)) return 'ram';
  if (!atLeast(offer.disk_space, req.disk)) return 'disk';
  if (!atLeast(offer.reliability, rules.reliabilityFloor ?? DEFAULT_RELIABILITY_FLOOR)) return 'reliability';
  if (!atLeast(offer.direct_port_count, rules.directPorts ?? 1)) return 'directPorts';
  if (offer.rentable !== true || offer.rented === true) return 'rentable';
  if (offer.verified !== true && offer.verification !== 'verified') return 'verified';
  if (req.maxPrice !== undefined && offer.dph_total > req.maxPrice) return 'maxPrice';
  const region: Region | undefined = req.location === undefined ? undefined : resolveLocation(req.location);
  if (region && !inRegion(offer.geolocation, region)) return 'location';
  return null;
}

/** The offers that really meet the request, cheapest total price first. */
export function matchingOffers(offers: readonly VastOffer[], req: ServerRequirements, rules: OfferRules = {}): VastOffer[] {
  return offers.filter((o) => offerMismatch(o, req, rules) === null).sort((a, b) => a.dph_total - b.dph_total || a.id - b.id);
}
