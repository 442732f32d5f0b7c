import { z } from 'zod';

/** A link in an API prompt: `[source node id, output slot]`. */
export const apiLinkSchema = z.tuple([z.string(), z.number().int().min(0)]);

export const apiNodeSchema = z.looseObject({
  class_type: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()),
  _meta: z.looseObject({ title: z.string().optional() }).optional(),
});

/** The API ("prompt") format that `POST /prompt` takes: `{id: {class_type, inputs, _meta}}`. */
export const apiPromptSchema = z.record(z.string(), apiNodeSchema);

export type ApiLink = z.infer<typeof apiLinkSchema>;
export type ApiNode = z.infer<typeof apiNodeSchema>;
export type ApiPrompt = z.infer<typeof apiPromptSchema>;

/** True when an API input value is a link to another node rather than a literal. */
export function isApiLink(value: unknown): value is ApiLink {
  return (
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number'
  );
}
