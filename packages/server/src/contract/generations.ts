import type { GenerateInput, GenerationStatus as CoreGenerationStatus } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, IsoDate, PageQuery } from './common.js';
import { defineEndpoint } from './endpoint.js';
import type { Fits } from './fits.js';
import { FIELD_LIMITS, Prompt, WorkflowUpload } from './limits.js';

const tag = 'Image Generation';

export const GenerationStatus = z.enum(['queued', 'executing', 'completed', 'failed', 'cancelled']);
type _StatusWords = [Fits<z.infer<typeof GenerationStatus>, CoreGenerationStatus>, Fits<CoreGenerationStatus, z.infer<typeof GenerationStatus>>];

/** Why a generation failed, as the `error` event and the history carry it. */
export const GenerationError = z.object({
  error: z.string(),
  /** Class type of the node that failed, when one did. */
  node: z.string().nullable(),
  details: z.string(),
});

const SamplerName = z.string().min(1).max(FIELD_LIMITS.samplerChars);

/** Body of `POST /api/comfy/:serverId/generate` (spec "Generate Image"), within the API's field limits. */
const GenerateBody = z.object({
  prompt: Prompt.min(1),
  negativePrompt: Prompt.optional(),
  workflowId: z.number().int().positive().optional(),
  /** Addition: a workflow sent with the request, UI or API format; wins over `workflowId`. */
  workflow: WorkflowUpload.optional(),
  parameters: z
    .object({
      steps: z.number().int().min(1).max(10_000).optional(),
      cfg: z.number().min(0).max(100).optional(),
      /** -1 (the default) picks a random seed, stored and reported. */
      seed: z.number().int().min(-1).optional(),
      width: z.number().int().min(16).max(16_384).optional(),
      height: z.number().int().min(16).max(16_384).optional(),
      sampler: SamplerName.optional(),
      scheduler: SamplerName.optional(),
      denoise: z.number().min(0).max(1).optional(),
      batchSize: z.number().int().min(1).max(64).optional(),
    })
    .optional(),
});
type _GenerateBodyIsInput = Fits<z.output<typeof GenerateBody>, GenerateInput>;

const GenerateResponse = z.object({
  success: z.literal(true),
  generationId: z.number().int(),
  message: z.string(),
  estimatedTime: z.string(),
  queuePosition: z.number().int(),
  /** Additions: the seed used, and outputs ComfyUI dropped at validation (null when none). */
  seed: z.number().nullable(),
  nodeErrors: z.record(z.string(), z.unknown()).nullable(),
});

const GenerationProgress = z.object({
  generationId: z.number().int(),
  status: GenerationStatus,
  progress: z.number().min(0).max(100),
  currentNode: z.string().nullable(),
  /** Addition: the prompt's id of the running node (`currentNode` is its class, shared by every node of the class). */
  currentNodeId: z.string().nullable(),
  totalNodes: z.number().int(),
  completedNodes: z.number().int(),
  previewImage: z.string().nullable(),
  executionTime: z.number().nullable(),
  estimatedTimeRemaining: z.number().nullable(),
  /** Addition: dollars of GPU time so far (execution time at the server's price), null when the price is unknown. */
  cost: z.number().nullable(),
});

const ActiveGeneration = z.object({
  generationId: z.number().int(),
  serverId: z.number().int(),
  status: GenerationStatus,
  progress: z.number(),
  prompt: z.string(),
});

export const GenerationHistoryItem = z.object({
  id: z.number().int(),
  serverId: z.number().int(),
  prompt: z.string(),
  status: GenerationStatus,
  imageUrls: z.array(z.string()),
  createdAt: IsoDate,
  completedAt: IsoDate.nullable(),
  /** Additions. */
  seed: z.number().nullable(),
  error: GenerationError.nullable(),
  /** Dollars of GPU time the generation took, null while unknown. */
  cost: z.number().nullable(),
});
export type GenerationHistoryItem = z.infer<typeof GenerationHistoryItem>;

export const generationEndpoints = {
  generate: defineEndpoint({
    method: 'POST',
    path: '/comfy/:serverId/generate',
    summary: 'Queue a generation on a running server',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    body: GenerateBody,
    response: GenerateResponse,
  }),
  getProgress: defineEndpoint({
    method: 'GET',
    path: '/comfy/progress/:generationId',
    summary: 'Status and progress of one generation',
    tag,
    auth: 'user',
    params: z.object({ generationId: Id }),
    response: GenerationProgress,
  }),
  listActive: defineEndpoint({
    method: 'GET',
    path: '/comfy/progress',
    summary: 'The caller’s queued and executing generations',
    tag,
    auth: 'user',
    response: z.array(ActiveGeneration),
  }),
  cancelGeneration: defineEndpoint({
    method: 'POST',
    path: '/comfy/progress/:generationId/cancel',
    summary: 'Interrupt a running generation or remove a queued one',
    tag,
    auth: 'user',
    params: z.object({ generationId: Id }),
    response: z.object({ success: z.literal(true), message: z.string(), status: GenerationStatus }),
  }),
  listGenerations: defineEndpoint({
    method: 'GET',
    path: '/comfy/generations/:serverId',
    summary: 'A server’s generations, newest first; the next page’s cursor is in the X-Next-Cursor header',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    query: PageQuery,
    response: z.array(GenerationHistoryItem),
  }),
  getImage: defineEndpoint({
    method: 'GET',
    path: '/comfy/images/:file',
    summary: 'An image of one of the caller’s generations',
    tag,
    auth: 'user',
    params: z.object({ file: z.string().max(200) }),
    response: 'binary',
  }),
};

/** Where a stored image is downloaded: the one place image URLs are written. */
export function imageUrl(file: string): string {
  return `/api${generationEndpoints.getImage.path.replace(':file', encodeURIComponent(file))}`;
}
