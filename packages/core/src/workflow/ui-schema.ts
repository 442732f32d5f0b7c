import { z } from 'zod';

/**
 * The ComfyUI frontend's saved-workflow ("UI") format, versions 0.4 and 1. Every object is loose so that fields
 * this library does not read (positions, colours, extension state) survive a parse and a re-serialisation.
 */
export const nodeIdSchema = z.union([z.number(), z.string()]);
export const linkIdSchema = z.union([z.number(), z.string()]);
const slotTypeSchema = z.union([z.string(), z.number()]);

/** A downloadable model declared by a workflow or a node (`models` / `properties.models`). */
export const modelFileSchema = z.looseObject({
  name: z.string(),
  url: z.string(),
  directory: z.string(),
  hash: z.string().optional(),
  hash_type: z.string().optional(),
});

export const uiNodeInputSchema = z.looseObject({
  name: z.string(),
  type: slotTypeSchema.optional(),
  link: linkIdSchema.nullable().optional(),
  widget: z.looseObject({ name: z.string() }).optional(),
  label: z.string().optional(),
});

export const uiNodeOutputSchema = z.looseObject({
  name: z.string().optional(),
  type: slotTypeSchema.optional(),
  links: z.array(linkIdSchema).nullable().optional(),
});

export const uiNodeSchema = z.looseObject({
  id: nodeIdSchema,
  type: z.string(),
  pos: z.unknown().optional(),
  size: z.unknown().optional(),
  flags: z.unknown().optional(),
  order: z.number().optional(),
  mode: z.number().optional(),
  title: z.string().optional(),
  inputs: z.array(uiNodeInputSchema).optional(),
  outputs: z.array(uiNodeOutputSchema).optional(),
  properties: z
    .looseObject({
      'Node name for S&R': z.string().optional(),
      cnr_id: z.string().optional(),
      aux_id: z.string().optional(),
      ver: z.string().optional(),
      models: z.array(modelFileSchema).optional(),
      proxyWidgets: z.array(z.tuple([z.union([z.string(), z.number()]), z.string()])).optional(),
    })
    .optional(),
  widgets_values: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
});

/** v0.4 links: `[id, origin_id, origin_slot, target_id, target_slot, type]`. */
export const uiLinkArraySchema = z
  .tuple([linkIdSchema, nodeIdSchema, z.number(), nodeIdSchema, z.number()])
  .rest(z.unknown());

/** v1 and subgraph links. `parentId` names a native reroute, which does not change connectivity. */
export const uiLinkObjectSchema = z.looseObject({
  id: linkIdSchema,
  origin_id: nodeIdSchema,
  origin_slot: z.number(),
  target_id: nodeIdSchema,
  target_slot: z.number(),
  type: z.unknown().optional(),
  parentId: z.number().optional(),
});

export const uiLinkSchema = z.union([uiLinkArraySchema, uiLinkObjectSchema]);

export const uiGroupSchema = z.looseObject({
  id: z.number().optional(),
  title: z.string(),
  bounding: z.array(z.number()),
  color: z.string().optional(),
  font_size: z.number().optional(),
});

export const rerouteSchema = z.looseObject({
  id: z.number(),
  parentId: z.number().optional(),
  pos: z.unknown().optional(),
  linkIds: z.array(linkIdSchema).optional(),
});

const subgraphIoSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  type: slotTypeSchema.optional(),
  linkIds: z.array(linkIdSchema).optional(),
});

/** A subgraph definition; nested definitions are parsed on demand with the same schema. */
export const subgraphSchema = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  revision: z.number().optional(),
  nodes: z.array(uiNodeSchema),
  links: z.array(uiLinkSchema).optional(),
  inputNode: z.unknown().optional(),
  outputNode: z.unknown().optional(),
  inputs: z.array(subgraphIoSchema).optional(),
  outputs: z.array(subgraphIoSchema).optional(),
  widgets: z.array(z.unknown()).optional(),
  definitions: z.looseObject({ subgraphs: z.array(z.unknown()).optional() }).optional(),
});

const groupSlotConfigSchema = z.looseObject({ name: z.string().optional(), visible: z.boolean().optional() });

/**
 * A legacy group node definition kept in `extra.groupNodes`. Links are `[originIndex, originSlot, targetIndex,
 * targetSlot, originNodeId, type]`, with a null origin index for a link from outside the group; `config` (by inner
 * node index) can rename or hide the inputs (by input name) and outputs (by slot) the instance exposes.
 */
export const groupNodeDefinitionSchema = z.looseObject({
  nodes: z.array(uiNodeSchema.omit({ id: true }).extend({ index: z.number().optional() })),
  links: z.array(z.array(z.unknown())).optional(),
  external: z.array(z.array(z.unknown())).optional(),
  config: z
    .record(
      z.string(),
      z.looseObject({
        input: z.record(z.string(), groupSlotConfigSchema).optional(),
        output: z.record(z.string(), groupSlotConfigSchema).optional(),
      }),
    )
    .optional(),
});

export const uiWorkflowSchema = z.looseObject({
  id: z.string().optional(),
  revision: z.number().optional(),
  version: z.number().optional(),
  last_node_id: nodeIdSchema.optional(),
  last_link_id: z.number().optional(),
  state: z.looseObject({}).optional(),
  nodes: z.array(uiNodeSchema),
  links: z.array(uiLinkSchema).optional(),
  groups: z.array(uiGroupSchema).optional(),
  reroutes: z.array(rerouteSchema).optional(),
  floatingLinks: z.array(z.unknown()).optional(),
  config: z.unknown().optional(),
  extra: z
    .looseObject({
      reroutes: z.array(rerouteSchema).optional(),
      groupNodes: z.record(z.string(), groupNodeDefinitionSchema).optional(),
    })
    .optional(),
  models: z.array(modelFileSchema).optional(),
  definitions: z.looseObject({ subgraphs: z.array(subgraphSchema).optional() }).optional(),
});

export type NodeId = z.infer<typeof nodeIdSchema>;
export type ModelFile = z.infer<typeof modelFileSchema>;
export type UiInput = z.infer<typeof uiNodeInputSchema>;
export type UiOutput = z.infer<typeof uiNodeOutputSchema>;
export type UiNode = z.infer<typeof uiNodeSchema>;
export type UiLink = z.infer<typeof uiLinkSchema>;
export type UiGroup = z.infer<typeof uiGroupSchema>;
export type Subgraph = z.infer<typeof subgraphSchema>;
export type GroupNodeDefinition = z.infer<typeof groupNodeDefinitionSchema>;
export type UiWorkflow = z.infer<typeof uiWorkflowSchema>;
