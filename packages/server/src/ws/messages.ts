import { z } from 'zod';

const NumericId = z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d{0,14}$/).transform(Number)]);

/** What a client may send on the socket. */
export const ClientMessage = z.union([
  z.object({ type: z.literal('auth'), token: z.string() }),
  z.object({ type: z.literal('subscribe'), generationId: NumericId, since: z.number().int().min(0).optional() }),
  z.object({ type: z.literal('subscribe'), serverId: NumericId }),
  z.object({ type: z.literal('unsubscribe'), generationId: NumericId }),
  z.object({ type: z.literal('unsubscribe'), serverId: NumericId }),
  z.object({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Every message the hub sends has a type; events about a resource name it by its key. */
export interface HubEvent {
  type: string;
  [field: string]: unknown;
}

export type TopicKey = 'generationId' | 'serverId';
