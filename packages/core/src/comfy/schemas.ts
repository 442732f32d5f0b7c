import { z } from 'zod';

/**
 * ComfyUI's HTTP and WebSocket payloads (docs: reference/comfyui-protocol.md §1–2), checked at the boundary.
 * Objects are loose: servers add fields over time, and only the ones read here are required.
 */

export const fileRefSchema = z.looseObject({
  filename: z.string(),
  subfolder: z.string().default(''),
  type: z.string().default('output'),
});
export type ComfyFileRef = z.infer<typeof fileRefSchema>;

/** A node's UI output (`images`, `gifs`, `text`...): lists of files or other values. */
export const uiOutputSchema = z.record(z.string(), z.unknown());
export type ComfyUiOutput = z.infer<typeof uiOutputSchema>;

export const errorItemSchema = z.looseObject({
  type: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  extra_info: z.unknown().optional(),
});

export const nodeErrorsSchema = z.record(
  z.string(),
  z.looseObject({ errors: z.array(errorItemSchema), dependent_outputs: z.array(z.string()).default([]), class_type: z.string().optional() }),
);
export type ComfyNodeErrors = z.infer<typeof nodeErrorsSchema>;

export const promptResponseSchema = z.looseObject({
  prompt_id: z.string(),
  number: z.number(),
  node_errors: nodeErrorsSchema.default({}),
});

export const promptErrorSchema = z.looseObject({
  error: z.union([errorItemSchema, z.string()]),
  node_errors: nodeErrorsSchema.default({}),
});
export type ComfyPromptError = z.infer<typeof promptErrorSchema>;

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute, ...]`. */
export const queueItemSchema = z.tuple([z.number(), z.string(), z.unknown(), z.unknown().optional(), z.unknown().optional()]).rest(z.unknown());

export const queueSchema = z.looseObject({
  queue_running: z.array(queueItemSchema),
  queue_pending: z.array(queueItemSchema),
});

export const historyEntrySchema = z.looseObject({
  prompt: z.array(z.unknown()).optional(),
  outputs: z.record(z.string(), uiOutputSchema.nullable()).default({}),
  status: z
    .looseObject({
      status_str: z.string(),
      completed: z.boolean(),
      messages: z.array(z.tuple([z.string(), z.record(z.string(), z.unknown())])).default([]),
    })
    .optional(),
});
export type ComfyHistoryEntry = z.infer<typeof historyEntrySchema>;

export const historySchema = z.record(z.string(), historyEntrySchema);

export const jobStatusSchema = z.enum(['pending', 'in_progress', 'completed', 'failed', 'cancelled']);

export const jobSchema = z.looseObject({
  id: z.string(),
  status: jobStatusSchema,
  outputs: z.record(z.string(), uiOutputSchema.nullable()).optional(),
  execution_error: z.record(z.string(), z.unknown()).optional(),
  execution_status: historyEntrySchema.shape.status.optional(),
});
export type ComfyJob = z.infer<typeof jobSchema>;

export const systemStatsSchema = z.looseObject({
  system: z.looseObject({ os: z.string().optional(), comfyui_version: z.string().optional() }),
  devices: z.array(z.looseObject({ name: z.string(), type: z.string(), vram_total: z.number().optional(), vram_free: z.number().optional() })),
});
export type ComfySystemStats = z.infer<typeof systemStatsSchema>;


export const uploadResponseSchema = z.looseObject({ name: z.string(), subfolder: z.string().default(''), type: z.string().default('input') });

// --- WebSocket JSON messages (§2.3) ---

const promptId = z.string();

export const executionErrorSchema = z.looseObject({
  prompt_id: promptId,
  node_id: z.string().nullable().optional(),
  node_type: z.string().nullable().optional(),
  exception_message: z.string().default(''),
  exception_type: z.string().default(''),
  executed: z.array(z.string()).default([]),
  traceback: z.array(z.string()).default([]),
});
export type ComfyExecutionError = z.infer<typeof executionErrorSchema>;

export const wsMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), data: z.looseObject({ status: z.looseObject({ exec_info: z.looseObject({ queue_remaining: z.number() }) }), sid: z.string().optional() }) }),
  z.object({ type: z.literal('execution_start'), data: z.looseObject({ prompt_id: promptId }) }),
  z.object({ type: z.literal('execution_cached'), data: z.looseObject({ prompt_id: promptId, nodes: z.array(z.string()) }) }),
  // A reconnecting socket is told the current node without a prompt id (§2.1).
  z.object({ type: z.literal('executing'), data: z.looseObject({ node: z.string().nullable(), prompt_id: promptId.optional(), display_node: z.string().optional() }) }),
  z.object({ type: z.literal('progress'), data: z.looseObject({ prompt_id: promptId.optional(), node: z.string().nullable().optional(), value: z.number(), max: z.number() }) }),
  z.object({ type: z.literal('progress_state'), data: z.looseObject({ prompt_id: promptId, nodes: z.record(z.string(), z.looseObject({ value: z.number(), max: z.number(), state: z.string() })) }) }),
  z.object({ type: z.literal('executed'), data: z.looseObject({ prompt_id: promptId, node: z.string(), output: uiOutputSchema.nullable() }) }),
  z.object({ type: z.literal('execution_success'), data: z.looseObject({ prompt_id: promptId }) }),
  z.object({ type: z.literal('execution_error'), data: executionErrorSchema }),
  z.object({ type: z.literal('execution_interrupted'), data: z.looseObject({ prompt_id: promptId, node_id: z.string().nullable().optional(), node_type: z.string().nullable().optional() }) }),
]);
export type ComfyWsMessage = z.infer<typeof wsMessageSchema>;
export type ComfyWsMessageType = ComfyWsMessage['type'];

/** The JSON of a type-4 preview frame. */
export const previewMetadataSchema = z.looseObject({
  node_id: z.string().optional(),
  prompt_id: z.string().optional(),
  display_node_id: z.string().optional(),
  image_type: z.string().optional(),
});
