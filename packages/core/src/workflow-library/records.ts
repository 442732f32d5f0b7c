import { z } from 'zod';
import { defineCollection } from '../store/store.js';

export const WorkflowRecord = z.object({
  id: z.number().int(),
  /** Null for built-ins, which every user sees. */
  userId: z.number().int().nullable(),
  /** The built-in's key, so its record is found again (and refreshed) on every start. */
  builtinKey: z.string().nullable(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  format: z.enum(['ui', 'api']),
  workflow: z.record(z.string(), z.unknown()),
  requiredModels: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WorkflowRecord = z.infer<typeof WorkflowRecord>;

/**
 * A log, not a document: a user's saved workflows can add up to many megabytes, and a document collection would
 * rewrite all of them on every save.
 */
export const workflowsCollection = defineCollection({ name: 'workflows', schema: WorkflowRecord, kind: 'log' });

/** What a user sends to save a workflow. */
export const WorkflowInput = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  description: z.string().max(5000).default(''),
  workflow: z.record(z.string(), z.unknown()),
  tags: z.array(z.string().trim().min(1).max(50)).max(50).default([]),
});
export type WorkflowInput = z.input<typeof WorkflowInput>;

export const AnalysisRecord = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  serverId: z.number().int().nullable(),
  createdAt: z.string(),
  result: z.record(z.string(), z.unknown()),
});
export type AnalysisRecord = z.infer<typeof AnalysisRecord>;

export const analysesCollection = defineCollection({ name: 'analyses', schema: AnalysisRecord, kind: 'log' });
