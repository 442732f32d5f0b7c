import { z } from 'zod';
import { parseOrThrow } from '../errors/index.js';
import { serverRequirementsSchema } from '../vast/index.js';

const nameSchema = z.string().trim().min(1).max(100);

/** Rent a new server: the contract's body `{name, gpu, gpuCount, cpuCores, ram, disk, location}` (+ maxPrice). */
export const createServerRequestSchema = serverRequirementsSchema.extend({ name: nameSchema });

/** Take over an instance already rented on the account. */
export const attachVastRequestSchema = z.object({
  name: nameSchema,
  vastId: z.union([z.number().int().positive(), z.string().trim().regex(/^\d+$/).transform(Number)]),
});

/** Use any ComfyUI reachable over HTTP (provider `attached`). */
export const attachComfyRequestSchema = z.object({
  name: nameSchema,
  comfyUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  comfyToken: z.string().trim().min(1).max(4096).optional(),
});

export type CreateServerRequest = z.input<typeof createServerRequestSchema>;
export type AttachVastRequest = z.input<typeof attachVastRequestSchema>;
export type AttachComfyRequest = z.input<typeof attachComfyRequestSchema>;
export type ServerRequest = CreateServerRequest | AttachVastRequest | AttachComfyRequest;

export type ParsedServerRequest =
  | { kind: 'create'; body: z.output<typeof createServerRequestSchema> }
  | { kind: 'attachVast'; body: z.output<typeof attachVastRequestSchema> }
  | { kind: 'attachComfy'; body: z.output<typeof attachComfyRequestSchema> };

/** One request, three meanings, told apart by their keys: `comfyUrl` attaches a ComfyUI, `vastId` an instance. */
export function parseServerRequest(body: unknown): ParsedServerRequest {
  const keys = typeof body === 'object' && body !== null ? body : {};
  if ('comfyUrl' in keys) return { kind: 'attachComfy', body: parseOrThrow(attachComfyRequestSchema, body, 'server request') };
  if ('vastId' in keys) return { kind: 'attachVast', body: parseOrThrow(attachVastRequestSchema, body, 'server request') };
  return { kind: 'create', body: parseOrThrow(createServerRequestSchema, body, 'server request') };
}
