import { z } from 'zod';
import type { ComfyTarget } from '../comfy/index.js';
import { defineCollection } from '../store/index.js';
import { splitComfyUrl, withoutUrlCredentials } from './comfy-url.js';
import { serverStatusSchema, type ServerStatus } from './status.js';

export const serverProviderSchema = z.enum(['vast', 'attached']);
export type ServerProvider = z.infer<typeof serverProviderSchema>;

const sshEndpointSchema = z.object({ host: z.string(), port: z.number().int(), user: z.string() });

/**
 * A server as stored. `comfyToken` (the instance's WEB_PASSWORD, or an attached ComfyUI's token) and
 * `comfyBasicAuth` never leave core.
 */
export const serverRecordSchema = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  name: z.string(),
  provider: serverProviderSchema,
  vastId: z.number().int().nullable(),
  gpu: z.string().nullable(),
  gpuCount: z.number().int().nullable(),
  location: z.string().nullable(),
  status: serverStatusSchema,
  statusReason: z.string().nullable(),
  isLaunched: z.boolean(),
  /** Vast's `dph_total` in $/hour: GPU, compute and disk, billed while the container runs. */
  pricePerHour: z.number(),
  /** The disk's share in $/hour, billed from creation to destroy, stopped included. */
  storagePerHour: z.number(),
  comfyUrl: z.string().nullable(),
  comfyToken: z.string().nullable(),
  /** `user:password` that an attached ComfyUI's URL carried, for the basic-auth proxy in front of it. */
  comfyBasicAuth: z.string().nullable().optional(),
  ssh: sshEndpointSchema.nullable(),
  /** Dollars billed up to `costAccruedAt` (ms). */
  costAccrued: z.number(),
  costAccruedAt: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
});

export type ServerRecord = z.infer<typeof serverRecordSchema>;

export const serversCollection = defineCollection({ name: 'servers', schema: serverRecordSchema, kind: 'document' });

/**
 * A server as the library describes it: prices and cost as numbers in dollars, ready for arithmetic, and dates as
 * the ISO strings the record keeps, so a description passes through JSON, events and logs unchanged (`new Date(s)`
 * when a Date is wanted). There is no field for its ComfyUI's credentials: they cannot leak through this shape.
 */
export const serverSchema = z.object({
  id: z.number().int(),
  /** The Vast.ai instance; null for an attached ComfyUI and for a rent still choosing its offer. */
  vastId: z.number().int().nullable(),
  name: z.string(),
  gpu: z.string().nullable(),
  gpuCount: z.number().int().nullable(),
  location: z.string().nullable(),
  /** As recorded, except that a server of the simulated Vast.ai says `simulated`. */
  provider: z.enum([...serverProviderSchema.options, 'simulated']),
  status: serverStatusSchema,
  statusReason: z.string().nullable(),
  isLaunched: z.boolean(),
  /** $/hour while the container runs: GPU, compute and disk. */
  pricePerHour: z.number(),
  /** $/hour of the disk alone, billed while stopped too, until delete. */
  storagePerHour: z.number(),
  /** Dollars billed so far, estimated from the prices Vast reported. */
  costSoFar: z.number(),
  comfyUrl: z.string().nullable(),
  ssh: sshEndpointSchema.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type Server = z.infer<typeof serverSchema>;

/** What is billed per hour in a status: everything while the container runs, the disk otherwise, nothing once gone. */
export function hourlyRate(record: Pick<ServerRecord, 'provider' | 'status' | 'pricePerHour' | 'storagePerHour'>, status: ServerStatus = record.status): number {
  if (record.provider !== 'vast' || status === 'deleted') return 0;
  return status === 'running' || status === 'stopping' ? record.pricePerHour : record.storagePerHour;
}

/** Cost accrued up to `now`, at the rate of the current status since the last accrual. */
export function costAt(record: ServerRecord, now: number): number {
  const hours = Math.max(0, now - record.costAccruedAt) / 3_600_000;
  return record.costAccrued + hourlyRate(record) * hours;
}

/** Where and how core reaches a server's ComfyUI; null until it has a URL. The credentials never leave core. */
export function comfyTargetOf(record: ServerRecord): ComfyTarget | null {
  if (!record.comfyUrl) return null;
  // Records written before the credential was stored apart kept it in the URL.
  const { url, basicAuth } = splitComfyUrl(record.comfyUrl);
  const auth = record.comfyBasicAuth ?? basicAuth;
  return { url, ...(record.comfyToken ? { token: record.comfyToken } : {}), ...(auth ? { basicAuth: auth } : {}) };
}

/** What a record shows of itself at `now`; the caller decides the provider a simulated account shows. */
export function describeServer(record: ServerRecord, now: number): Server {
  return {
    id: record.id,
    vastId: record.vastId,
    name: record.name,
    gpu: record.gpu,
    gpuCount: record.gpuCount,
    location: record.location,
    provider: record.provider,
    status: record.status,
    // A record written before the credential was stored apart may still hold it in its URL and reason.
    statusReason: record.statusReason === null ? null : withoutUrlCredentials(record.statusReason),
    isLaunched: record.isLaunched,
    pricePerHour: record.pricePerHour,
    storagePerHour: record.storagePerHour,
    costSoFar: costAt(record, now),
    comfyUrl: record.comfyUrl === null ? null : splitComfyUrl(record.comfyUrl).url,
    ssh: record.ssh,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
