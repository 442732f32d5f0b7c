import { z } from 'zod';
import { GenerationError, GenerationStatus } from './generations.js';
import { SchedulerHistoryItem } from './scheduler.js';
import { BudgetStatus } from './users.js';
import { ServerStatus } from './vast-servers.js';

/** The spec's generation events on the WebSocket, each with the generation's event sequence number `seq`. */
export const GenerationEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    generationId: z.number().int(),
    seq: z.number().int(),
    /**
     * `currentNodeId` (an addition) is the prompt's id of the running node, whose class `currentNode` names; optional
     * so that a client reads a server that predates it.
     */
    data: z.object({ status: GenerationStatus, progress: z.number(), currentNode: z.string().nullable(), currentNodeId: z.string().nullable().optional(), previewImage: z.string().nullable() }),
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

/** A server's status changed (`previous` is absent from the snapshot a new subscriber gets at once). */
export const ServerStatusEvent = z.object({
  type: z.literal('server:status'),
  serverId: z.number().int(),
  data: z.object({ status: ServerStatus, previous: ServerStatus.optional(), isLaunched: z.boolean(), statusReason: z.string().nullable() }),
});
export type ServerStatusEvent = z.infer<typeof ServerStatusEvent>;

/** What the scheduler did to a server and why, as its history records it. */
export const SchedulerActionEvent = z.object({ type: z.literal('scheduler:action'), serverId: z.number().int(), data: SchedulerHistoryItem });
export type SchedulerActionEvent = z.infer<typeof SchedulerActionEvent>;

/** A user's spending reached 80 % (`warning`) or 100 % (`exceeded`) of the monthly budget; sent to all of their connections. */
export const BudgetEvent = z.object({ type: z.enum(['budget:warning', 'budget:exceeded']), data: BudgetStatus });
export type BudgetEvent = z.infer<typeof BudgetEvent>;
