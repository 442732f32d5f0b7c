import { z } from 'zod';
import { modelFileNameSchema, modelFolderSchema, modelUrlSchema } from '../remote/inputs.js';
import { doneLineSchema, errorLineSchema, progressLineSchema, retryLineSchema, stepLineSchema } from '../remote/lines.js';
import { defineCollection } from '../store/index.js';

export const EXECUTION_KINDS = ['setup', 'reset'] as const;
export const EXECUTION_STATUSES = ['running', 'completed', 'failed'] as const;
export const executionStatusSchema = z.enum(EXECUTION_STATUSES);
export type ExecutionStatus = z.infer<typeof executionStatusSchema>;
export type ExecutionKind = (typeof EXECUTION_KINDS)[number];

/** The script each kind runs, numbered as the API's `scriptId` (1 setup, 2 reset). */
export const SCRIPT_IDS: Record<ExecutionKind, number> = { setup: 1, reset: 2 };

const entryBase = { seq: z.number().int().positive(), at: z.string() };

/**
 * One line of an execution's log, as remote.sh printed it (or, for `error`, as our side ended it), with its
 * sequence number and when it was received.
 */
export const executionLogEntrySchema = z.discriminatedUnion('kind', [
  z.object({ ...entryBase, kind: z.literal('step'), line: stepLineSchema }),
  z.object({ ...entryBase, kind: z.literal('progress'), line: progressLineSchema }),
  z.object({ ...entryBase, kind: z.literal('retry'), line: retryLineSchema }),
  z.object({ ...entryBase, kind: z.literal('error'), line: errorLineSchema }),
  z.object({ ...entryBase, kind: z.literal('done'), line: doneLineSchema }),
]);
export type ExecutionLogEntry = z.infer<typeof executionLogEntrySchema>;

/** Why an execution failed: the script's own error line, or what ended it on our side. */
export const executionErrorSchema = z.object({ message: z.string(), reason: z.string() });
export type ExecutionError = z.infer<typeof executionErrorSchema>;

export const executionRecordSchema = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  serverId: z.number().int(),
  kind: z.enum(EXECUTION_KINDS),
  scriptId: z.number().int(),
  /** The remote job's id, chosen before it starts: starting it again only re-attaches. */
  jobId: z.string(),
  /**
   * With several API processes: the process that follows the execution's job; another adopts it when that process
   * is gone. Null in a single process.
   */
  owner: z.string().nullable().default(null),
  /** Reset only: whether the models folder is kept. */
  keepModels: z.boolean().nullable(),
  status: executionStatusSchema,
  /** The step under way (its line), null before the first one. */
  step: z.number().int().nullable(),
  of: z.number().int().nullable(),
  stepName: z.string().nullable(),
  stepSkipped: z.boolean(),
  /** When the current step began (epoch ms); null when unknown (it began before a restart of ours). */
  stepStartedAt: z.number().nullable(),
  /** Bytes of the remote log already received: a re-attach reads on from here. */
  offset: z.number().int().nonnegative(),
  /** The log kept on our side (bounded: consecutive progress lines keep only the latest, the oldest go first). */
  log: z.array(executionLogEntrySchema),
  droppedLines: z.number().int().nonnegative(),
  lastSeq: z.number().int().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  estimatedCompletion: z.string().nullable(),
  error: executionErrorSchema.nullable(),
});
export type ExecutionRecord = z.infer<typeof executionRecordSchema>;

/** Executions only grow, so they are a log collection. */
export const executionsCollection = defineCollection({ name: 'serverExecutions', schema: executionRecordSchema, kind: 'log' });

/** What a reset takes: whether the models folder survives it (default true). */
export const resetRequestSchema = z.object({ keepModels: z.boolean().default(true) });
export type ResetRequest = z.input<typeof resetRequestSchema>;

/** A model every setup makes sure of (the step "Downloading basic models"): fetched when its file is missing. */
export const basicModelSchema = z.object({ folder: modelFolderSchema, filename: modelFileNameSchema, url: modelUrlSchema });
export type BasicModel = z.infer<typeof basicModelSchema>;
