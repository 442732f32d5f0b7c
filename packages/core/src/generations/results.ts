import { z } from 'zod';
import type { GenerationError, GenerationStatus } from './records.js';

/** What `generate` takes: a prompt, and the workflow and parameters to run it with. */
export const generateInputSchema = z.object({
  prompt: z.string().min(1),
  negativePrompt: z.string().optional(),
  workflowId: z.number().int().positive().optional(),
  /** A workflow sent with the request, UI or API format (UI is converted here); wins over `workflowId`. */
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
export type GenerateInput = z.input<typeof generateInputSchema>;

/** A queued generation: where it stands in ComfyUI's queue, and how long it should take. */
export interface GenerateResult {
  generationId: number;
  estimatedTime: string;
  queuePosition: number;
  /** The seed used, when the workflow has one. */
  seed: number | null;
  /** Outputs ComfyUI dropped at validation, null when none. */
  nodeErrors: Record<string, unknown> | null;
}

/** Where one generation stands. */
export interface GenerationProgress {
  generationId: number;
  status: GenerationStatus;
  /** 0 to 100. */
  progress: number;
  currentNode: string | null;
  /** The prompt's id of the running node, whose class `currentNode` names. */
  currentNodeId: string | null;
  totalNodes: number;
  completedNodes: number;
  previewImage: string | null;
  executionTime: number | null;
  estimatedTimeRemaining: number | null;
  /** Dollars of GPU time so far (execution time at the server's price), null when the price is unknown. */
  cost: number | null;
}

/** A queued or executing generation. */
export interface ActiveGeneration {
  generationId: number;
  serverId: number;
  status: GenerationStatus;
  progress: number;
  prompt: string;
}

/** One generation of a server's history. */
export interface GenerationHistoryItem {
  id: number;
  serverId: number;
  prompt: string;
  status: GenerationStatus;
  /** Stored image files, as `getImage` takes them. */
  images: string[];
  createdAt: string;
  completedAt: string | null;
  seed: number | null;
  error: GenerationError | null;
  /** Dollars of GPU time the generation took, null while unknown. */
  cost: number | null;
}

interface EventBase {
  generationId: number;
  /** The owner, so whoever forwards the event knows whose it is. */
  userId: number;
  /** The generation's event sequence number. */
  seq: number;
}

export interface GenerationProgressEvent extends EventBase {
  type: 'progress';
  /** `currentNodeId` is the prompt's id of the running node, whose class `currentNode` names. */
  data: { status: GenerationStatus; progress: number; currentNode: string | null; currentNodeId: string | null; previewImage: string | null };
}

export interface GenerationCompleteEvent extends EventBase {
  type: 'complete';
  /** `images` are stored image files, as `getImage` takes them. */
  data: { status: 'completed'; images: string[]; executionTime: number | null };
}

export interface GenerationErrorEvent extends EventBase {
  type: 'error';
  /** `status` tells a cancel from a failure. */
  data: GenerationError & { status: 'failed' | 'cancelled' };
}

export type GenerationEvent = GenerationProgressEvent | GenerationCompleteEvent | GenerationErrorEvent;
