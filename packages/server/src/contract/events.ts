import { z } from 'zod';
import { GenerationError, GenerationStatus } from './generations.js';

/** The spec's generation events on the WebSocket, each with the generation's event sequence number `seq`. */
export const GenerationEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    generationId: z.number().int(),
    seq: z.number().int(),
    data: z.object({ status: GenerationStatus, progress: z.number(), currentNode: z.string().nullable(), previewImage: z.string().nullable() }),
  }),
  z.object({
    type: z.literal('complete'),
    generationId: z.number().int(),
    seq: z.number().int(),
    data: z.object({ status: z.literal('completed'), imageUrls: z.array(z.string()), executionTime: z.number().nullable() }),
  }),
  z.object({
    type: z.literal('error'),
    generationId: z.number().int(),
    seq: z.number().int(),
    /** `status` (failed or cancelled) is an addition, so clients can tell a cancel from a failure. */
    data: GenerationError.extend({ status: z.enum(['failed', 'cancelled']) }),
  }),
]);
export type GenerationEvent = z.infer<typeof GenerationEvent>;
