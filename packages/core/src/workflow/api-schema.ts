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

// Conversion output is built by constructors rather than literals. V8 moves literal allocation sites whose objects
// outlive a young-generation collection straight into the old generation, and a 10,000-node conversion's output
// does: that made large conversions several times slower per node than small ones. The objects are still plain
// (their prototype is Object.prototype) and arrays.

/** A new API link `[nodeId, slot]`. */
export function apiLink(nodeId: string, slot: number): ApiLink {
  const link = new Array<string | number>(2);
  link[0] = nodeId;
  link[1] = slot;
  return link as ApiLink;
}

interface PlainConstructor<T, A extends unknown[]> {
  new (...args: A): T;
  prototype: object;
}

const ApiNodeMeta = function (this: { title: string }, title: string) {
  this.title = title;
} as unknown as PlainConstructor<{ title: string }, [string]>;
ApiNodeMeta.prototype = Object.prototype;

const PlainApiNode = function (this: ApiNode, inputs: Record<string, unknown>, classType: string, title: string) {
  this.inputs = inputs;
  this.class_type = classType;
  this._meta = new ApiNodeMeta(title);
} as unknown as PlainConstructor<ApiNode, [Record<string, unknown>, string, string]>;
PlainApiNode.prototype = Object.prototype;

/** A new API node `{inputs, class_type, _meta: {title}}`, a plain object. */
export const apiNode = (inputs: Record<string, unknown>, classType: string, title: string): ApiNode => new PlainApiNode(inputs, classType, title);
