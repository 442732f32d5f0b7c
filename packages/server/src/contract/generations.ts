import { activeGenerationSchema, generateRequestSchema, generateResponseSchema, generationHistoryItemSchema, generationProgressSchema, generationStatusSchema } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, PageQuery } from './common.js';
import { defineEndpoint } from './endpoint.js';
import { FIELD_LIMITS, Prompt, WorkflowUpload } from './limits.js';

const tag = 'Image Generation';

const SamplerName = z.string().min(1).max(FIELD_LIMITS.samplerChars);
const generateParameters = generateRequestSchema.shape.parameters.unwrap();

/** The library's generate request within the API's field limits. */
const GenerateBody = generateRequestSchema.extend({
  prompt: Prompt.min(1),
  negativePrompt: Prompt.optional(),
  workflow: WorkflowUpload.optional(),
  parameters: generateParameters.extend({ sampler: SamplerName.optional(), scheduler: SamplerName.optional() }).optional(),
});

export const generationEndpoints = {
  generate: defineEndpoint({
    method: 'POST',
    path: '/comfy/:serverId/generate',
    summary: 'Queue a generation on a running server',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    body: GenerateBody,
    response: generateResponseSchema,
  }),
  getProgress: defineEndpoint({
    method: 'GET',
    path: '/comfy/progress/:generationId',
    summary: 'Status and progress of one generation',
    tag,
    auth: 'user',
    params: z.object({ generationId: Id }),
    response: generationProgressSchema,
  }),
  listActive: defineEndpoint({
    method: 'GET',
    path: '/comfy/progress',
    summary: 'The caller’s queued and executing generations',
    tag,
    auth: 'user',
    response: z.array(activeGenerationSchema),
  }),
  cancelGeneration: defineEndpoint({
    method: 'POST',
    path: '/comfy/progress/:generationId/cancel',
    summary: 'Interrupt a running generation or remove a queued one',
    tag,
    auth: 'user',
    params: z.object({ generationId: Id }),
    response: z.object({ success: z.literal(true), message: z.string(), status: generationStatusSchema }),
  }),
  listGenerations: defineEndpoint({
    method: 'GET',
    path: '/comfy/generations/:serverId',
    summary: 'A server’s generations, newest first; the next page’s cursor is in the X-Next-Cursor header',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    query: PageQuery,
    response: z.array(generationHistoryItemSchema),
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
