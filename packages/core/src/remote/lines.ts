import { z } from 'zod';
import { ComfyVastError } from '../errors/index.js';

/** The JSON lines remote.sh prints (and the testkit's fake host speaks), one schema per kind. */
export const stepLineSchema = z.object({
  step: z.number().int().positive(),
  of: z.number().int().positive(),
  name: z.string(),
  skipped: z.literal(true).optional(),
});

export const progressLineSchema = z.object({
  bytes: z.number().int().nonnegative(),
  total: z.number().int().nonnegative().nullable(),
});

export const retryLineSchema = z.object({ retry: z.number().int().positive(), curl: z.number().int() });

export const errorLineSchema = z.object({
  error: z.string(),
  /** usage, missing, disk, http, transfer, size, checksum, deps, command, comfy, cancelled */
  reason: z.string(),
  need: z.number().optional(),
  free: z.number().optional(),
});

export const doneLineSchema = z.object({ done: z.literal(true), rc: z.number().int(), lost: z.literal(true).optional() });

export const modelFileLineSchema = z.object({
  folder: z.string(),
  name: z.string(),
  bytes: z.number().int().nonnegative(),
  partial: z.boolean(),
});

export const jobLineSchema = z.object({
  job: z.string(),
  kind: z.string(),
  state: z.enum(['running', 'done', 'lost']),
  rc: z.number().int().nullable(),
  size: z.number().int().nonnegative(),
});

export const comfyLineSchema = z.object({ comfy: z.boolean() });

export type StepLine = z.infer<typeof stepLineSchema>;
export type ProgressLine = z.infer<typeof progressLineSchema>;
export type RetryLine = z.infer<typeof retryLineSchema>;
export type ErrorLine = z.infer<typeof errorLineSchema>;
export type DoneLine = z.infer<typeof doneLineSchema>;
export type ModelFileLine = z.infer<typeof modelFileLineSchema>;
export type JobLine = z.infer<typeof jobLineSchema>;
export type ComfyLine = z.infer<typeof comfyLineSchema>;

// Each kind is told apart by a key no kind before it has (a file line also has `bytes`), so order matters.
const KINDS = [
  ['done', 'done', doneLineSchema],
  ['error', 'error', errorLineSchema],
  ['step', 'step', stepLineSchema],
  ['folder', 'file', modelFileLineSchema],
  ['bytes', 'progress', progressLineSchema],
  ['retry', 'retry', retryLineSchema],
  ['job', 'job', jobLineSchema],
  ['comfy', 'comfy', comfyLineSchema],
] as const;

type Kind = (typeof KINDS)[number];

/** A parsed line with the name of its kind: `{ kind: 'progress', line: { bytes, total } }`. */
export type RemoteLine = { [K in Kind as K[1]]: { kind: K[1]; line: z.infer<K[2]> } }[Kind[1]];

/** One line of remote output, typed; anything else is a protocol failure of the server. */
export function parseRemoteLine(text: string): RemoteLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw protocolError('not JSON');
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, kind, schema] of KINDS) {
      if (!Object.hasOwn(value, key)) continue;
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw protocolError(`malformed ${kind} line`);
      return { kind, line: parsed.data } as RemoteLine;
    }
  }
  throw protocolError('unknown line');
}

// The offending text stays out of the error: a broken line could carry anything the server printed.
function protocolError(why: string): ComfyVastError {
  return new ComfyVastError('SSH_ERROR', `The server answered outside the line protocol (${why})`, { details: { reason: 'protocol' } });
}
