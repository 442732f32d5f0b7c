import { z } from 'zod';

/** Sizes the API accepts per field; documented in docs/api.md ("Limits"). */
export const FIELD_LIMITS = {
  /** Characters of a generation's prompt, and of its negative prompt. */
  promptChars: 10_000,
  /** Characters of a workflow's or a server's name. */
  nameChars: 100,
  descriptionChars: 2_000,
  tags: 32,
  tagChars: 50,
  /** Characters of a sampler or scheduler name. */
  samplerChars: 100,
  /** A workflow written as JSON, in UTF-8 bytes. */
  workflowBytes: 512 * 1024,
  /** Nodes of a workflow: the UI format's `nodes`, or the API format's entries. */
  workflowNodes: 2_000,
} as const;

/** The JSON size of a value; a value JSON cannot write counts as too large. */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function nodeCount(workflow: Record<string, unknown>): number {
  return Array.isArray(workflow.nodes) ? workflow.nodes.length : Object.keys(workflow).length;
}

/** A ComfyUI workflow as stored and answered, either format. */
export const WorkflowJson = z.record(z.string(), z.unknown()).describe('A ComfyUI workflow, UI format ({nodes, links, ...}) or API format ({id: {class_type, inputs}})');

/** A workflow a caller sends: WorkflowJson within the size and node limits. */
export const WorkflowUpload = WorkflowJson.refine((w) => nodeCount(w) <= FIELD_LIMITS.workflowNodes, `workflow must have at most ${FIELD_LIMITS.workflowNodes} nodes`).refine(
  (w) => jsonBytes(w) <= FIELD_LIMITS.workflowBytes,
  `workflow must be at most ${FIELD_LIMITS.workflowBytes / 1024} KiB as JSON`,
);

export const Prompt = z.string().max(FIELD_LIMITS.promptChars);
export const Name = z.string().max(FIELD_LIMITS.nameChars);
