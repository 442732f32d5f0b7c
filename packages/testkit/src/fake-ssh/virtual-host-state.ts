import { z } from 'zod';

export const virtualModelSchema = z.object({ folder: z.string(), name: z.string(), bytes: z.number().int().nonnegative(), partial: z.boolean() });
/** A file in the virtual model folder. */
export type VirtualModel = z.infer<typeof virtualModelSchema>;

const jobStateSchema = z.object({
  id: z.string(),
  kind: z.string(),
  /** The options it was started with, so a job still running when its host was saved goes on from its log. */
  options: z.record(z.string(), z.string()),
  log: z.string(),
  rc: z.number().int().nullable(),
  lost: z.boolean(),
});
export type VirtualJobState = z.infer<typeof jobStateSchema>;

/** What a virtual host keeps on its disk: what a real box would still have after our server restarts. */
export const virtualHostStateSchema = z.object({
  script: z.string(),
  installed: z.boolean(),
  comfyRunning: z.boolean(),
  freeBytes: z.number().nonnegative(),
  models: z.array(virtualModelSchema),
  jobs: z.array(jobStateSchema),
});
export type VirtualHostState = z.infer<typeof virtualHostStateSchema>;
