import { z } from 'zod';
import { Id } from './common.js';
import { BudgetEvent, GenerationEvent, SchedulerActionEvent, ServerStatusEvent } from './events.js';
import { DownloadEvent } from './models.js';
import { ExecutionLineEvent } from './setup.js';

/** What a client may send on the WebSocket. */
export const ClientMessage = z.union([
  z.object({ type: z.literal('auth'), token: z.string() }),
  z.object({
    type: z.literal('subscribe'),
    generationId: Id,
    since: z.number().int().min(0).optional(),
    /** `false` declines preview images: `previewImage` is then null, and events that only bring a new image are skipped. Default true. */
    previews: z.boolean().optional(),
  }),
  z.object({ type: z.literal('subscribe'), serverId: Id }),
  z.object({ type: z.literal('subscribe'), downloadId: Id }),
  z.object({ type: z.literal('subscribe'), executionId: Id, since: z.number().int().min(0).optional() }),
  z.object({ type: z.literal('unsubscribe'), generationId: Id }),
  z.object({ type: z.literal('unsubscribe'), serverId: Id }),
  z.object({ type: z.literal('unsubscribe'), downloadId: Id }),
  z.object({ type: z.literal('unsubscribe'), executionId: Id }),
  z.object({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** The socket has authenticated as this user. */
export const ReadyMessage = z.object({ type: z.literal('ready'), userId: z.number().int() });

/** A subscription took: the events of the generation or server follow. */
export const SubscribedMessage = z.union([
  z.object({ type: z.literal('subscribed'), generationId: z.number().int() }),
  z.object({ type: z.literal('subscribed'), serverId: z.number().int() }),
  z.object({ type: z.literal('subscribed'), downloadId: z.number().int() }),
  z.object({ type: z.literal('subscribed'), executionId: z.number().int() }),
]);

export const PongMessage = z.object({ type: z.literal('pong') });

/**
 * A message the hub refused (malformed, unauthenticated, over the limit), or a subscription to something missing,
 * which names the generation or server. A generation's own failure is its `error` event, which carries a `seq`.
 */
export const SocketError = z.object({
  type: z.literal('error'),
  generationId: z.number().int().optional(),
  serverId: z.number().int().optional(),
  downloadId: z.number().int().optional(),
  executionId: z.number().int().optional(),
  data: z.object({ error: z.string(), code: z.string(), details: z.record(z.string(), z.unknown()) }),
});
export type SocketError = z.infer<typeof SocketError>;

/** Everything the server sends on the WebSocket. */
export const SocketEvent = z.union([GenerationEvent, DownloadEvent, ExecutionLineEvent, ServerStatusEvent, SchedulerActionEvent, BudgetEvent, ReadyMessage, SubscribedMessage, PongMessage, SocketError]);
export type SocketEvent = z.infer<typeof SocketEvent>;
