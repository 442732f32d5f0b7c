import { attachComfyRequestSchema, attachVastRequestSchema, createServerRequestSchema, offerSummarySchema, serverApiSchema, serverRequirementsSchema, serverStatusSchema } from '@comfy-vast/core';
import { z } from 'zod';
import { Id } from './common.js';
import { defineEndpoint } from './endpoint.js';


/** The contract's server, plus when idle stop will stop it (null when it will not). */
const Server = serverApiSchema.extend({ idleStopAt: z.string().nullable() });

const ServerAction = z.object({ success: z.literal(true), message: z.string(), status: serverStatusSchema.optional() });
const ServerId = z.object({ id: Id });
const QueryNumber = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a number').transform(Number)]);
const requirements = serverRequirementsSchema.shape;

export const vastServerEndpoints = {
  createServer: defineEndpoint({
    method: 'POST',
    path: '/vast-servers',
    summary: 'Rent a GPU server on Vast.ai, attach an instance already rented ({name, vastId}) or any ComfyUI ({name, comfyUrl, comfyToken?})',
    tag: 'Vast.ai Server Management',
    auth: 'user',
    body: z.union([attachComfyRequestSchema, attachVastRequestSchema, createServerRequestSchema]),
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
    query: z.object({
      // The rent request's own rules, so the query is refused here rather than deep in the library.
      gpu: requirements.gpu,
      gpuCount: QueryNumber.pipe(requirements.gpuCount.unwrap()).optional(),
      cpuCores: QueryNumber.pipe(requirements.cpuCores.unwrap()).optional(),
      ram: QueryNumber.pipe(requirements.ram.unwrap()).optional(),
      disk: QueryNumber.pipe(requirements.disk.unwrap()).optional(),
      location: requirements.location,
      maxPrice: QueryNumber.pipe(requirements.maxPrice.unwrap()).optional(),
    }),
    response: z.array(offerSummarySchema),
  }),
};
