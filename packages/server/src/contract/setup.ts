import type { ExecutionStatus as CoreExecutionStatus, ResetRequest } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, IsoDate } from './common.js';
import { defineEndpoint } from './endpoint.js';
import type { Fits } from './fits.js';

const tag = 'ComfyUI Setup & Management';

export const ExecutionStatus = z.enum(['running', 'completed', 'failed']);
type _StatusWords = [Fits<z.infer<typeof ExecutionStatus>, CoreExecutionStatus>, Fits<CoreExecutionStatus, z.infer<typeof ExecutionStatus>>];

const ExecutionKind = z.enum(['setup', 'reset']);

/** Why an execution failed: the script's own error (`reason` as remote.sh gives it) or what ended it on our side. */
const ExecutionError = z.object({ message: z.string(), reason: z.string() });

/** Answer of `POST /api/comfy/startup/:serverId` (spec "Initialize ComfyUI Setup"). */
const StartupResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  executionId: z.number().int(),
  estimatedTime: z.string(),
  steps: z.array(z.string()),
  /** Addition: false when the server was already running a setup or reset, which is the one answered. */
  started: z.boolean(),
});

/** Body of `POST /api/comfy/:serverId/reset` (none in the spec): the models folder is kept unless `keepModels` is false. */
const ResetBody = z.object({ keepModels: z.boolean().optional() });
type _ResetBodyIsInput = Fits<z.output<typeof ResetBody>, ResetRequest>;

/** Answer of `POST /api/comfy/:serverId/reset` (spec "Reset ComfyUI Setup"). */
const ResetResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  executionId: z.number().int(),
  /** Additions, as the startup answer has them. */
  estimatedTime: z.string(),
  steps: z.array(z.string()),
});

/** One setup or reset of a server (spec "Get Setup Progress"); `output` is the current step's line. */
export const ServerExecution = z.object({
  id: z.number().int(),
  serverId: z.number().int(),
  scriptId: z.number().int(),
  status: ExecutionStatus,
  output: z.string(),
  startedAt: IsoDate,
  /** When it is expected to end (when it ended, once it has). */
  estimatedCompletion: IsoDate.nullable(),
  /** Additions. */
  kind: ExecutionKind,
  step: z.number().int().nullable(),
  of: z.number().int().nullable(),
  stepName: z.string().nullable(),
  finishedAt: IsoDate.nullable(),
  error: ExecutionError.nullable(),
  /** A reset's choice; null for a setup. */
  keepModels: z.boolean().nullable(),
});
export type ServerExecution = z.infer<typeof ServerExecution>;

/** One line of an execution's log: remote.sh's JSON line (`line`), its kind, and the same in words (`text`). */
export const ExecutionLogLine = z.object({
  seq: z.number().int(),
  at: IsoDate,
  kind: z.enum(['step', 'progress', 'retry', 'error', 'done']),
  text: z.string(),
  line: z.record(z.string(), z.unknown()),
});
export type ExecutionLogLine = z.infer<typeof ExecutionLogLine>;

/** Addition: an execution's whole log, kept by the API (it answers after the server stopped). */
const ExecutionLogResponse = z.object({
  execution: ServerExecution,
  lines: z.array(ExecutionLogLine),
  /** Lines dropped from the start of a log that outgrew its bound. */
  droppedLines: z.number().int(),
});

/** A line of a followed execution on the WebSocket, with the execution's status once it is applied. */
export const ExecutionLineEvent = z.object({
  type: z.literal('execution:line'),
  executionId: z.number().int(),
  serverId: z.number().int(),
  seq: z.number().int(),
  data: z.object({ status: ExecutionStatus, output: z.string(), line: ExecutionLogLine }),
});
export type ExecutionLineEvent = z.infer<typeof ExecutionLineEvent>;

export const setupEndpoints = {
  startSetup: defineEndpoint({
    method: 'POST',
    path: '/comfy/startup/:serverId',
    summary: 'Set ComfyUI up on a rented server (or answer the setup already running there)',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    response: StartupResponse,
  }),
  listExecutions: defineEndpoint({
    method: 'GET',
    path: '/server-executions/:serverId',
    summary: 'A server’s setups and resets, newest first',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    response: z.array(ServerExecution),
  }),
  getExecutionLog: defineEndpoint({
    method: 'GET',
    path: '/server-executions/:serverId/:executionId/log',
    summary: 'The whole log of one setup or reset',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id, executionId: Id }),
    response: ExecutionLogResponse,
  }),
  resetSetup: defineEndpoint({
    method: 'POST',
    path: '/comfy/:serverId/reset',
    summary: 'Remove ComfyUI and its environment (models kept unless keepModels is false) and set it up again',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    body: ResetBody,
    response: ResetResponse,
  }),
};
