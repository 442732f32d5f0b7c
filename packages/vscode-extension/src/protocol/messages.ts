import { z } from 'zod';

/**
 * Every message between the extension and the workflow editor's webview. Both sides parse what they
 * receive with these schemas and drop anything else.
 */

/** One widget of a node as ComfyUI's frontend makes it from the node definition, in `widgets_values` order. */
export const WidgetDefinition = z.object({
  /** The input it sets; the control after a seed and an upload button set none. */
  name: z.string(),
  kind: z.enum(['number', 'combo', 'text', 'toggle', 'control', 'upload']),
  integer: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
  /** A combo's values. */
  options: z.array(z.string()).optional(),
});
export type WidgetDefinition = z.infer<typeof WidgetDefinition>;

/** What the graph editor needs of a node class: its widgets, linkable inputs and outputs (object_info). */
export const NodeDefinitionView = z.object({
  title: z.string(),
  inputs: z.array(z.object({ name: z.string(), type: z.string() })),
  outputs: z.array(z.object({ name: z.string(), type: z.string() })),
  widgets: z.array(WidgetDefinition),
});
export type NodeDefinitionView = z.infer<typeof NodeDefinitionView>;

/**
 * The graph as litegraph loads it (ComfyUI's UI format: nodes, links, groups, subgraph definitions); an API
 * file is shown through an equivalent made for it. Its own shape is litegraph's concern.
 */
export const LiteGraphData = z.looseObject({ nodes: z.array(z.looseObject({ id: z.union([z.number(), z.string()]), type: z.string() })), links: z.array(z.unknown()) });
export type LiteGraphData = z.infer<typeof LiteGraphData>;

const Point = z.tuple([z.number(), z.number()]);

/**
 * One change made in the graph editor, named by what it changes; the extension turns it into the minimal edit
 * of the text. `graph` is the subgraph's id when the node is inside one.
 */
export const GraphChange = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('widget'), graph: z.string().optional(), nodeId: z.string(), index: z.number().int().min(0), value: z.union([z.string(), z.number(), z.boolean()]) }),
  z.object({ kind: z.literal('position'), graph: z.string().optional(), nodeId: z.string(), value: Point }),
  /** ComfyUI's modes: 0 runs, 2 muted (never), 4 bypassed. */
  z.object({ kind: z.literal('mode'), graph: z.string().optional(), nodeId: z.string(), value: z.union([z.literal(0), z.literal(2), z.literal(4)]) }),
  z.object({ kind: z.literal('group'), graph: z.string().optional(), index: z.number().int().min(0), value: z.tuple([z.number(), z.number(), z.number(), z.number()]) }),
]);
export type GraphChange = z.infer<typeof GraphChange>;

/** Core's generation parameter names (checked against core's type in workflow/core-adapter.ts). */
export const ParameterName = z.enum(['prompt', 'negativePrompt', 'seed', 'steps', 'cfg', 'sampler', 'scheduler', 'denoise', 'width', 'height', 'batchSize']);
export type ParameterName = z.infer<typeof ParameterName>;

export const ParameterField = z.object({
  name: ParameterName,
  label: z.string(),
  kind: z.enum(['text', 'integer', 'number', 'choice']),
  value: z.union([z.string(), z.number()]),
  options: z.array(z.string()).optional(),
  /** The node definition's limits (object_info): the form refuses a value outside them. */
  min: z.number().optional(),
  max: z.number().optional(),
  /** Integers: the steps the value moves in (image sizes go by 8). */
  step: z.number().positive().optional(),
  /** Where the value lives, shown to the user ("KSampler #3"). */
  node: z.string(),
});
export type ParameterField = z.infer<typeof ParameterField>;

export const ModelView = z.object({
  name: z.string(),
  folder: z.string(),
  /** `unchecked` when no server was asked. */
  state: z.enum(['available', 'missing', 'unchecked']),
  /** Shown as a link: https only. */
  downloadUrl: z.string().startsWith('https://').optional(),
});
export type ModelView = z.infer<typeof ModelView>;

export const ProgressView = z.object({
  status: z.string(),
  percent: z.number().min(0).max(100),
  currentNode: z.string().optional(),
  /** The running node's id in the prompt: the UI node's id for a top-level node, not for one inside a subgraph. */
  currentNodeId: z.string().max(200).optional(),
  /** A data: URL only: the webview never loads remote images. */
  preview: z.string().startsWith('data:image/').optional(),
});
export type ProgressView = z.infer<typeof ProgressView>;

export const ProblemView = z.object({
  message: z.string(),
  severity: z.enum(['error', 'warning']),
  /** The node it is about, revealed in the graph on click. */
  nodeId: z.string().optional(),
  /** Where it is in the text, for "Show in text". */
  span: z.object({ offset: z.number().int().min(0), length: z.number().int().min(0) }),
});
export type ProblemView = z.infer<typeof ProblemView>;

/** A run of the file's queue. */
export const QueuedRunView = z.object({ id: z.number().int(), state: z.enum(['queued', 'running']), server: z.string(), summary: z.string() });
export type QueuedRunView = z.infer<typeof QueuedRunView>;

/** A finished run as the gallery shows it. */
export const GalleryEntryView = z.object({
  id: z.string(),
  time: z.string(),
  server: z.string(),
  seed: z.number().optional(),
  prompt: z.string(),
  negativePrompt: z.string().optional(),
  parameters: z.record(z.string(), z.union([z.string(), z.number()])),
  cost: z.number().optional(),
  /** webview resource URIs (from asWebviewUri) of the images. */
  images: z.array(z.object({ src: z.string(), label: z.string() })),
});
export type GalleryEntryView = z.infer<typeof GalleryEntryView>;

export const ToWebview = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('workflow'),
    name: z.string(),
    format: z.enum(['ui', 'api']),
    graph: LiteGraphData,
    /** By node type, for the types the workflow uses and the definitions know. */
    definitions: z.record(z.string(), NodeDefinitionView),
    parameters: z.array(ParameterField),
    problems: z.array(ProblemView),
  }),
  z.object({ type: z.literal('invalid'), message: z.string() }),
  /** `server`: where a missing model can be downloaded to (the selected server). */
  z.object({ type: z.literal('models'), models: z.array(ModelView), note: z.string().optional(), server: z.string().optional() }),
  /** A run began: what the last one showed is cleared. */
  z.object({ type: z.literal('started'), server: z.string() }),
  z.object({ type: z.literal('progress'), progress: ProgressView }),
  z.object({ type: z.literal('queue'), runs: z.array(QueuedRunView) }),
  /** The file's gallery, newest first. */
  z.object({ type: z.literal('gallery'), entries: z.array(GalleryEntryView) }),
  z.object({
    type: z.literal('result'),
    /** webview resource URIs (from asWebviewUri) of the saved images. */
    images: z.array(z.object({ src: z.string(), label: z.string() })),
    error: z.string().optional(),
  }),
]);
export type ToWebview = z.infer<typeof ToWebview>;

export const FromWebview = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('setParameter'), name: ParameterName, value: z.union([z.string(), z.number()]) }),
  z.object({ type: z.literal('randomizeSeed') }),
  /** Changes made together in the graph (a group moved with its nodes): one undoable edit. */
  z.object({ type: z.literal('editGraph'), changes: z.array(GraphChange).min(1).max(500) }),
  z.object({ type: z.literal('generate') }),
  /** Cancels one run of the queue, or the running one. */
  z.object({ type: z.literal('cancel'), runId: z.number().int().optional() }),
  /** Sets the form's values to the ones a gallery entry was made with. */
  z.object({ type: z.literal('restore'), entryId: z.string() }),
  z.object({ type: z.literal('openImage'), entryId: z.string(), index: z.number().int().min(0) }),
  z.object({ type: z.literal('revealImage'), entryId: z.string(), index: z.number().int().min(0) }),
  /** Downloads a missing model to the selected server. */
  z.object({ type: z.literal('downloadModel'), name: z.string().min(1).max(255) }),
  /** Opens the file as text, at `span` when given (a problem's characters). */
  z.object({ type: z.literal('openText'), span: ProblemView.shape.span.optional() }),
]);
export type FromWebview = z.infer<typeof FromWebview>;
