import type { ServerStatus as CoreServerStatus, ServerRequest, ServerRequirementsInput } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, IsoDate } from './common.js';
import { defineEndpoint } from './endpoint.js';
import type { Fits } from './fits.js';
import { FIELD_LIMITS } from './limits.js';

export const ServerStatus = z.enum(['creating', 'starting', 'running', 'stopping', 'stopped', 'error', 'deleted']);
type _StatusWords = [Fits<z.infer<typeof ServerStatus>, CoreServerStatus>, Fits<CoreServerStatus, z.infer<typeof ServerStatus>>];

/**
 * A server: the contract's fields (id, vastId, name, gpu, status, isLaunched, pricePerHour as "0.50", createdAt)
 * and additions. There is no field for its ComfyUI's credentials: they cannot leak through this shape.
 */
const Server = z.object({
  id: z.number().int(),
  vastId: z.string().nullable(),
  name: z.string(),
  gpu: z.string().nullable(),
  status: ServerStatus,
  isLaunched: z.boolean(),
  pricePerHour: z.string(),
  createdAt: IsoDate,
  /** `simulated` for a server of the simulated Vast.ai. */
  provider: z.enum(['vast', 'attached', 'simulated']),
  /** The disk's price in $/hour, billed while stopped too, until delete. */
  storagePricePerHour: z.string(),
  gpuCount: z.number().int().nullable(),
  location: z.string().nullable(),
  statusReason: z.string().nullable(),
  /** Dollars billed so far, estimated from the prices Vast reported. */
  costSoFar: z.number(),
  comfyUrl: z.string().nullable(),
  ssh: z.object({ host: z.string(), port: z.number().int(), user: z.string() }).nullable(),
  updatedAt: IsoDate,
  /** When idle stop will stop it; null when it will not. */
  idleStopAt: IsoDate.nullable(),
});

const ServerName = z.string().trim().min(1).max(FIELD_LIMITS.nameChars);

/** What a server needs (ram and disk in GB); the library checks the location against its regions. */
const requirements = {
  gpu: z.string().trim().min(1).max(64),
  gpuCount: z.number().int().min(1).max(16),
  cpuCores: z.number().int().min(1).max(256),
  ram: z.number().positive().max(4096),
  disk: z.number().positive().max(16384),
  location: z.string().trim().min(1).describe('A two-letter country code or a region such as US-East, EU-West, Asia'),
  /** Highest acceptable price in $/hour, disk included. */
  maxPrice: z.number().positive(),
};

/** Rent a new server: the contract's body `{name, gpu, gpuCount, cpuCores, ram, disk, location}` (+ maxPrice). */
const CreateServerBody = z.object({
  name: ServerName,
  gpu: requirements.gpu,
  gpuCount: requirements.gpuCount.optional(),
  cpuCores: requirements.cpuCores.optional(),
  ram: requirements.ram.optional(),
  disk: requirements.disk.optional(),
  location: requirements.location.optional(),
  maxPrice: requirements.maxPrice.optional(),
});
/** Take over an instance already rented on the account. */
const AttachVastBody = z.object({ name: ServerName, vastId: z.union([z.number().int().positive(), z.string().trim().regex(/^\d+$/).transform(Number)]) });
/** Use any ComfyUI reachable over HTTP. */
const AttachComfyBody = z.object({ name: ServerName, comfyUrl: z.url({ protocol: /^https?$/ }), comfyToken: z.string().trim().min(1).max(4096).optional() });
const ServerBody = z.union([AttachComfyBody, AttachVastBody, CreateServerBody]);
type _ServerBodyIsRequest = Fits<z.output<typeof ServerBody>, ServerRequest>;

const ServerAction = z.object({ success: z.literal(true), message: z.string(), status: ServerStatus.optional() });
const ServerId = z.object({ id: Id });
const QueryNumber = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a number').transform(Number)]);

/** Query of `GET /api/vast-offers`: the rent request's own rules, so the query is refused here rather than deep in the library. */
const OfferQuery = z.object({
  gpu: requirements.gpu,
  gpuCount: QueryNumber.pipe(requirements.gpuCount).optional(),
  cpuCores: QueryNumber.pipe(requirements.cpuCores).optional(),
  ram: QueryNumber.pipe(requirements.ram).optional(),
  disk: QueryNumber.pipe(requirements.disk).optional(),
  location: requirements.location.optional(),
  maxPrice: QueryNumber.pipe(requirements.maxPrice).optional(),
});
type _OfferQueryIsRequirements = Fits<z.output<typeof OfferQuery>, ServerRequirementsInput>;

/** An offer as shown before renting. */
const OfferSummary = z.object({
  offerId: z.number(),
  gpu: z.string().nullable(),
  gpuCount: z.number().nullable(),
  cpuCores: z.number().nullable(),
  ramGb: z.number().nullable(),
  diskGb: z.number().nullable(),
  location: z.string().nullable(),
  reliability: z.number().nullable(),
  pricePerHour: z.string(),
});

export const vastServerEndpoints = {
  createServer: defineEndpoint({
    method: 'POST',
    path: '/vast-servers',
    summary: 'Rent a GPU server on Vast.ai, attach an instance already rented ({name, vastId}) or any ComfyUI ({name, comfyUrl, comfyToken?})',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    body: ServerBody,
    response: Server,
  }),
  listServers: defineEndpoint({
    method: 'GET',
    path: '/vast-servers',
    summary: 'The caller’s servers, with status, price and cost so far',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    response: z.array(Server),
  }),
  getServer: defineEndpoint({
    method: 'GET',
    path: '/vast-servers/:id',
    summary: 'One server',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    params: ServerId,
    response: Server,
  }),
  startServer: defineEndpoint({
    method: 'POST',
    path: '/vast-servers/start/:id',
    summary: 'Start a stopped server',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    params: ServerId,
    response: ServerAction,
  }),
  stopServer: defineEndpoint({
    method: 'POST',
    path: '/vast-servers/stop/:id',
    summary: 'Stop a server: GPU billing ends, storage keeps billing until delete',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    params: ServerId,
    response: ServerAction,
  }),
  deleteServer: defineEndpoint({
    method: 'DELETE',
    path: '/vast-servers/:id',
    summary: 'Destroy a rented server (all billing ends) or forget an attached one',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    params: ServerId,
    response: ServerAction,
  }),
  listOffers: defineEndpoint({
    method: 'GET',
    path: '/vast-offers',
    summary: 'Offers that match a request, cheapest first, to look before renting',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    query: OfferQuery,
    response: z.array(OfferSummary),
  }),
};
