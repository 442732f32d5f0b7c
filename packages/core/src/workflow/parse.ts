import type { z } from 'zod';
import { ComfyVastError } from '../errors/index.js';
import { apiPromptSchema, type ApiPrompt } from './api-schema.js';
import { compileSchemaCheck } from './schema-check.js';
import { uiWorkflowSchema, type UiWorkflow } from './ui-schema.js';

export type WorkflowFormat = 'ui' | 'api';

export type ParsedWorkflow = { format: 'ui'; workflow: UiWorkflow } | { format: 'api'; prompt: ApiPrompt };

/** Marks results of `parseWorkflow`, so that functions given one do not validate it again. */
const PARSED = Symbol('comfy-vast.parsed-workflow');

function mark(parsed: ParsedWorkflow): ParsedWorkflow {
  Object.defineProperty(parsed, PARSED, { value: true, enumerable: false });
  return parsed;
}

export function isParsedWorkflow(value: unknown): value is ParsedWorkflow {
  return typeof value === 'object' && value !== null && (value as { [PARSED]?: boolean })[PARSED] === true;
}

/** The result of `parseWorkflow` as is, or raw JSON parsed now. */
export function ensureParsed(workflow: unknown): ParsedWorkflow {
  return isParsedWorkflow(workflow) ? workflow : parseWorkflow(workflow);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Tells the two formats apart: a UI workflow has a `nodes` array; an API prompt is an object whose
 * values all carry `class_type` (`{}` is an empty prompt). Anything else is neither.
 */
export function detectWorkflowFormat(json: unknown): WorkflowFormat | undefined {
  if (!isRecord(json)) return undefined;
  if (Array.isArray(json['nodes'])) return 'ui';
  // An empty object is an empty prompt (a UI graph whose every node is muted converts to one).
  if (Object.values(json).every((v) => isRecord(v) && 'class_type' in v)) return 'api';
  return undefined;
}

function invalid(message: string, details: Record<string, unknown>): ComfyVastError {
  return new ComfyVastError('WORKFLOW_INVALID', message, { details });
}

/** Names the node and field behind a zod issue path, reading node ids from the raw input. */
function locateIssue(format: WorkflowFormat, json: Record<string, unknown>, path: readonly PropertyKey[]) {
  const keys = path.map(String);
  if (format === 'api') {
    const [nodeId, ...rest] = keys;
    return { nodeId, field: rest.length > 0 ? rest.join('.') : undefined };
  }
  const nodesAt = keys[0] === 'nodes' ? 1 : keys[0] === 'definitions' && keys[3] === 'nodes' ? 4 : -1;
  if (nodesAt < 0) return { nodeId: undefined, field: keys.join('.') || undefined };
  const container = nodesAt === 1 ? json['nodes'] : readPath(json, keys.slice(0, 4));
  const raw = Array.isArray(container) ? container[Number(keys[nodesAt])] : undefined;
  const id = isRecord(raw) && (typeof raw['id'] === 'number' || typeof raw['id'] === 'string') ? String(raw['id']) : undefined;
  const field = keys.slice(nodesAt + 1).join('.');
  return { nodeId: id ?? `#${keys[nodesAt]}`, field: field || undefined };
}

function readPath(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) current = isRecord(current) || Array.isArray(current) ? (current as Record<string, unknown>)[key] : undefined;
  return current;
}

function toError(format: WorkflowFormat, json: Record<string, unknown>, error: z.ZodError): ComfyVastError {
  const issues = error.issues.map((issue) => ({ ...locateIssue(format, json, issue.path), message: issue.message }));
  const first = issues[0]!;
  const where = first.nodeId !== undefined ? `node ${first.nodeId}` : 'workflow';
  const field = first.field !== undefined ? `, field "${first.field}"` : '';
  return invalid(`Invalid ${format === 'ui' ? 'UI' : 'API'} workflow: ${where}${field}: ${first.message}`, {
    format,
    nodeId: first.nodeId,
    field: first.field,
    issues,
  });
}

// Compiled once: checks a valid workflow without copying it; anything they refuse goes to the schemas.
const isUiWorkflow = compileSchemaCheck(uiWorkflowSchema);
const isApiPrompt = compileSchemaCheck(apiPromptSchema);

/**
 * Detects the format of a workflow (UI or API) and validates it. Unknown fields are kept. The result can be
 * passed to `toApiPrompt`, `analyzeWorkflow` and `findParameterTargets` instead of the JSON, to validate once.
 * A valid workflow is not copied: the result holds the given objects, which the library never changes.
 * @throws ComfyVastError WORKFLOW_INVALID naming the node and field at fault.
 */
export function parseWorkflow(json: unknown): ParsedWorkflow {
  const format = detectWorkflowFormat(json);
  if (!format || !isRecord(json)) {
    throw invalid('Not a ComfyUI workflow: expected a UI workflow with a "nodes" array or an API prompt of {id: {class_type, inputs}}', {
      field: 'workflow',
    });
  }
  if (format === 'ui') {
    if (isUiWorkflow(json)) return mark({ format, workflow: json as UiWorkflow });
    const parsed = uiWorkflowSchema.safeParse(json);
    if (!parsed.success) throw toError(format, json, parsed.error);
    return mark({ format, workflow: parsed.data });
  }
  if (isApiPrompt(json)) return mark({ format, prompt: json as ApiPrompt });
  const parsed = apiPromptSchema.safeParse(json);
  if (!parsed.success) throw toError(format, json, parsed.error);
  return mark({ format, prompt: parsed.data });
}
