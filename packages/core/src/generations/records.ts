import { z } from 'zod';
import { defineCollection } from '../store/index.js';

export const GENERATION_STATUSES = ['queued', 'executing', 'completed', 'failed', 'cancelled'] as const;
export const generationStatusSchema = z.enum(GENERATION_STATUSES);
export type GenerationStatus = z.infer<typeof generationStatusSchema>;

/** Why a generation failed, as its `error` event carries it. */
export const generationErrorSchema = z.object({
  error: z.string(),
  /** Class type of the node that failed, when one did. */
  node: z.string().nullable(),
  details: z.string(),
});
export type GenerationError = z.infer<typeof generationErrorSchema>;

export const generationRecordSchema = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  serverId: z.number().int(),
  /** The server's GPU price when the generation was queued, $/hour; its cost is this times its GPU time. */
  pricePerHour: z.number().nullable().default(null),
  prompt: z.string(),
  negativePrompt: z.string().nullable(),
  workflowId: z.number().int().nullable(),
  parameters: z.record(z.string(), z.unknown()),
  /** The seed used (a random one when -1 was asked for), when the workflow has one. */
  seed: z.number().nullable(),
  status: generationStatusSchema,
  /** ComfyUI's prompt id, chosen by us before submitting. */
  promptId: z.string(),
  /** Our socket's client id on that ComfyUI, reused after a restart so its events keep coming to us. */
  clientId: z.string(),
  /**
   * With several API processes: the process that follows the generation (holds the socket of `clientId`); another
   * adopts it when that process is gone. Null in a single process.
   */
  owner: z.string().nullable().default(null),
  /** The API prompt as submitted: needed to weigh progress again after a restart. */
  apiPrompt: z.record(z.string(), z.unknown()),
  progress: z.number().min(0).max(100),
  currentNode: z.string().nullable(),
  /** The prompt's id of that node (`currentNode` is its class, shared by every node of the class). */
  currentNodeId: z.string().nullable().default(null),
  totalNodes: z.number().int(),
  completedNodes: z.number().int(),
  /** Which nodes have run and which came from cache: progress picks up from them after a restart. */
  completedNodeIds: z.array(z.string()),
  cachedNodes: z.array(z.string()),
  /** Stored image files (`<id>_<n>.<ext>` under `<dataDir>/images`), and the ComfyUI files they came from. */
  images: z.array(z.string()),
  imageSources: z.array(z.string()),
  /** Outputs ComfyUI dropped because they failed validation (a 200 with node_errors). */
  nodeErrors: z.record(z.string(), z.unknown()).nullable(),
  error: generationErrorSchema.nullable(),
  /** The last event's per-generation sequence number. */
  seq: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  /** Seconds from execution start to the end. */
  executionTime: z.number().nullable(),
});
export type GenerationRecord = z.infer<typeof generationRecordSchema>;

/** Generation history only grows, so it is a log collection. */
export const generationsCollection = defineCollection({ name: 'generations', schema: generationRecordSchema, kind: 'log' });

export const ACTIVE_STATUSES: readonly GenerationStatus[] = ['queued', 'executing'];
export const isActive = (g: GenerationRecord): boolean => ACTIVE_STATUSES.includes(g.status);
