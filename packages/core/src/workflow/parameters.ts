import { z } from 'zod';

/** Generation parameters a caller sets on a workflow (the generate request's fields and `parameters`). */
export const generationParametersSchema = z.object({
  prompt: z.string().optional(),
  negativePrompt: z.string().optional(),
  steps: z.number().int().min(1).optional(),
  cfg: z.number().min(0).optional(),
  /** -1 asks for a random seed. */
  seed: z.number().int().min(-1).optional(),
  sampler: z.string().min(1).optional(),
  scheduler: z.string().min(1).optional(),
  denoise: z.number().min(0).max(1).optional(),
  width: z.number().int().min(16).optional(),
  height: z.number().int().min(16).optional(),
  batchSize: z.number().int().min(1).optional(),
  /** Any other input, keyed `"<node id or title or class>.<input>"`, e.g. `{"6.text": "…", "KSampler.steps": 20}`. */
  nodes: z.record(z.string(), z.unknown()).optional(),
});

export type GenerationParameters = z.infer<typeof generationParametersSchema>;
export type ParameterName = Exclude<keyof GenerationParameters, 'nodes'>;

export const PARAMETER_NAMES: readonly ParameterName[] = [
  'prompt', 'negativePrompt', 'steps', 'cfg', 'seed', 'sampler', 'scheduler', 'denoise', 'width', 'height', 'batchSize',
];

/** An API input that holds a parameter's value. */
export interface ParameterTarget {
  parameter: ParameterName;
  nodeId: string;
  input: string;
  value: unknown;
  classType: string;
  title: string | undefined;
}
