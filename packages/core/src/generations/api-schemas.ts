import { z } from 'zod';
import { generationErrorSchema, generationStatusSchema } from './records.js';

/** Body of `POST /api/comfy/:serverId/generate` (spec "Generate Image"). */
export const generateRequestSchema = z.object({
  prompt: z.string().min(1),
  negativePrompt: z.string().optional(),
  workflowId: z.number().int().positive().optional(),
  /** Addition: a workflow sent with the request, UI or API format (UI is converted here); wins over `workflowId`. */
  workflow: z.record(z.string(), z.unknown()).optional(),
  parameters: z
    .object({
      steps: z.number().int().min(1).max(10_000).optional(),
      cfg: z.number().min(0).max(100).optional(),
      /** -1 (the default) picks a random seed, stored and reported. */
      seed: z.number().int().min(-1).optional(),
      width: z.number().int().min(16).max(16_384).optional(),
      height: z.number().int().min(16).max(16_384).optional(),
      sampler: z.string().min(1).optional(),
      scheduler: z.string().min(1).optional(),
      denoise: z.number().min(0).max(1).optional(),
      batchSize: z.number().int().min(1).max(64).optional(),
    })
    .optional(),
});
export type GenerateRequest = z.infer<typeof generateRequestSchema>;

export const generateResponseSchema = z.object({
  success: z.literal(true),
  generationId: z.number().int(),
  message: z.string(),
  estimatedTime: z.string(),
  queuePosition: z.number().int(),
  /** Additions: the seed used, and outputs ComfyUI dropped at validation (null when none). */
  seed: z.number().nullable(),
  nodeErrors: z.record(z.string(), z.unknown()).nullable(),
});
export type GenerateResponse = z.infer<typeof generateResponseSchema>;

/** `GET /api/comfy/progress/:generationId`. */
export const generationProgressSchema = z.object({
  generationId: z.number().int(),
  status: generationStatusSchema,
  progress: z.number().min(0).max(100),
  currentNode: z.string().nullable(),
  totalNodes: z.number().int(),
  completedNodes: z.number().int(),
  previewImage: z.string().nullable(),
  executionTime: z.number().nullable(),
  estimatedTimeRemaining: z.number().nullable(),
  /** Addition: dollars of GPU time so far (execution time at the server's price), null when the price is unknown. */
  cost: z.number().nullable(),
});
export type GenerationProgress = z.infer<typeof generationProgressSchema>;

/** One entry of `GET /api/comfy/progress`. */
export const activeGenerationSchema = z.object({
  generationId: z.number().int(),
  serverId: z.number().int(),
  status: generationStatusSchema,
  progress: z.number(),
  prompt: z.string(),
});
export type ActiveGeneration = z.infer<typeof activeGenerationSchema>;

/** One entry of `GET /api/comfy/generations/:serverId`. */
export const generationHistoryItemSchema = z.object({
  id: z.number().int(),
  serverId: z.number().int(),
  prompt: z.string(),
  status: generationStatusSchema,
  imageUrls: z.array(z.string()),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
  /** Additions. */
  seed: z.number().nullable(),
  error: generationErrorSchema.nullable(),
  /** Dollars of GPU time the generation took, null while unknown. */
  cost: z.number().nullable(),
});
export type GenerationHistoryItem = z.infer<typeof generationHistoryItemSchema>;

/** The spec's WebSocket events, each with the generation's event sequence number (and the owner, for routing). */
export const generationEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    generationId: z.number().int(),
    userId: z.number().int(),
    seq: z.number().int(),
    data: z.object({ status: generationStatusSchema, progress: z.number(), currentNode: z.string().nullable(), previewImage: z.string().nullable() }),
  }),
  z.object({
    type: z.literal('complete'),
    generationId: z.number().int(),
    userId: z.number().int(),
    seq: z.number().int(),
    data: z.object({ status: z.literal('completed'), imageUrls: z.array(z.string()), executionTime: z.number().nullable() }),
  }),
  z.object({
    type: z.literal('error'),
    generationId: z.number().int(),
    userId: z.number().int(),
    seq: z.number().int(),
    /** `status` (failed or cancelled) is an addition, so clients can tell a cancel from a failure. */
    data: generationErrorSchema.extend({ status: z.enum(['failed', 'cancelled']) }),
  }),
]);
export type GenerationEvent = z.infer<typeof generationEventSchema>;
export type GenerationProgressEvent = Extract<GenerationEvent, { type: 'progress' }>;
export type GenerationCompleteEvent = Extract<GenerationEvent, { type: 'complete' }>;
export type GenerationErrorEvent = Extract<GenerationEvent, { type: 'error' }>;

export const imageUrl = (file: string): string => `/api/comfy/images/${file}`;
