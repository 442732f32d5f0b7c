import { z } from 'zod';

/**
 * Every message between the extension and the workflow editor's webview. Both sides parse what they
 * receive with these schemas and drop anything else.
 */

export const GraphNodeView = z.object({
  id: z.string(),
  title: z.string(),
  type: z.string(),
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
  mode: z.enum(['active', 'muted', 'bypassed']),
});

export const GraphLinkView = z.object({ from: z.string(), to: z.string(), type: z.string() });

export const GraphView = z.object({
  nodes: z.array(GraphNodeView),
  links: z.array(GraphLinkView),
  bounds: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
});
export type GraphView = z.infer<typeof GraphView>;
export type GraphNodeView = z.infer<typeof GraphNodeView>;

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

export const ToWebview = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('workflow'),
    name: z.string(),
    format: z.enum(['ui', 'api']),
    graph: GraphView,
    parameters: z.array(ParameterField),
    problems: z.array(ProblemView),
  }),
  z.object({ type: z.literal('invalid'), message: z.string() }),
  z.object({ type: z.literal('models'), models: z.array(ModelView), note: z.string().optional() }),
  /** A run began: what the last one showed is cleared. */
  z.object({ type: z.literal('started'), server: z.string() }),
  z.object({ type: z.literal('progress'), progress: ProgressView }),
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
  z.object({ type: z.literal('generate') }),
  z.object({ type: z.literal('cancel') }),
  /** Opens the file as text, at `span` when given (a problem's characters). */
  z.object({ type: z.literal('openText'), span: ProblemView.shape.span.optional() }),
]);
export type FromWebview = z.infer<typeof FromWebview>;
