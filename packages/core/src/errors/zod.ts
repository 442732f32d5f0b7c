import type { z } from 'zod';
import { ComfyVastError } from './comfy-vast-error.js';
import type { ErrorCode } from './codes.js';

/** The issues of a failed parse, one entry per field: `{ "schedule.startTime": "expected HH:MM" }`. */
export function describeIssues(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.') || '(root)';
    fields[path] ??= issue.message;
  }
  return fields;
}

/**
 * Parses `value` with `schema`, turning a failure into a ComfyVastError whose details name each field at fault.
 * `code` says whose fault it is: VALIDATION_ERROR for our caller's input, VAST_API_ERROR for a provider's answer.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string, code: ErrorCode = 'VALIDATION_ERROR'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = describeIssues(result.error);
  const first = Object.entries(fields)[0];
  const where = first ? `: ${first[0] === '(root)' ? '' : `${first[0]} `}${first[1]}` : '';
  throw new ComfyVastError(code, `Invalid ${what}${where}`, { details: { fields } });
}
