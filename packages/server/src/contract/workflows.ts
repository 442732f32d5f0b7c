import { z } from 'zod';
import { Id, IsoDate } from './common.js';
import { defineEndpoint } from './endpoint.js';
import { FIELD_LIMITS, Name, WorkflowJson, WorkflowUpload } from './limits.js';

/** A warning (something may be wrong) or a note (done as ComfyUI's frontend does, worth knowing): the same shape. */
const Finding = z.object({ code: z.string(), message: z.string(), nodeId: z.string().optional(), field: z.string().optional() });

export const WorkflowSummary = z.object({
  id: z.number(),
  name: z.string(),
  description: z.string(),
  workflow: WorkflowJson,
  requiredModels: z.array(z.string()),
  tags: z.array(z.string()),
  format: z.enum(['ui', 'api']),
  builtin: z.boolean(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

const WorkflowListItem = WorkflowSummary.extend({
  /** Of `requiredModels`, those the server does not have; null when the server could not be asked. */
  missingModels: z.array(z.string()).nullable(),
});

const WorkflowBody = z.object({
  name: Name,
  description: z.string().max(FIELD_LIMITS.descriptionChars).optional(),
  workflow: WorkflowUpload,
  tags: z.array(z.string().max(FIELD_LIMITS.tagChars)).max(FIELD_LIMITS.tags).optional(),
});

const Analysis = z.object({
  analysisId: z.number(),
  format: z.enum(['ui', 'api']),
  requiredModels: z.array(
    z.object({ name: z.string(), type: z.string(), folder: z.string().nullable(), size: z.string().nullable(), available: z.boolean(), nodeIds: z.array(z.string()) }),
  ),
  missingModels: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      folder: z.string().nullable(),
      size: z.string().nullable(),
      downloadUrl: z.string().nullable(),
      sha256: z.string().nullable(),
      source: z.enum(['workflow', 'catalogue']).nullable(),
    }),
  ),
  missingNodes: z.array(z.object({ type: z.string(), nodeIds: z.array(z.string()), cnr_id: z.string().optional(), aux_id: z.string().optional() })),
  complexity: z.enum(['low', 'medium', 'high']),
  figures: z.object({ samplerWork: z.number(), samplers: z.number(), upscalers: z.number(), nodeCount: z.number() }),
  estimatedGenerationTime: z.string(),
  estimatedSeconds: z.object({ min: z.number(), max: z.number() }),
  checkedAgainstServer: z.boolean(),
  warnings: z.array(Finding),
  notes: z.array(Finding),
});

const Conversion = z.object({ prompt: z.record(z.string(), z.unknown()), warnings: z.array(Finding), notes: z.array(Finding) });
const WorkflowOnly = z.object({ workflow: WorkflowUpload });
const ServerParams = z.object({ serverId: Id });
const WorkflowParams = z.object({ id: Id });
const tag = 'Workflow Management';

export const workflowEndpoints = {
  listWorkflows: defineEndpoint({
    method: 'GET',
    path: '/comfy/workflows/:serverId',
    summary: 'Built-in workflows and the caller’s, with the models each needs and which of them the server lacks',
    tag,
    auth: 'user',
    params: ServerParams,
    response: z.array(WorkflowListItem),
  }),
  createWorkflow: defineEndpoint({
    method: 'POST',
    path: '/comfy/workflows',
    summary: 'Save a workflow (either format), validated, with its required models',
    tag,
    auth: 'user',
    body: WorkflowBody,
    response: z.object({ id: z.number(), name: z.string(), message: z.string() }),
  }),
  getWorkflow: defineEndpoint({
    method: 'GET',
    path: '/comfy/workflow/:id',
    summary: 'One saved workflow',
    tag,
    auth: 'user',
    params: WorkflowParams,
    response: WorkflowSummary,
  }),
  replaceWorkflow: defineEndpoint({
    method: 'PUT',
    path: '/comfy/workflow/:id',
    summary: 'Replace one of the caller’s workflows',
    tag,
    auth: 'user',
    params: WorkflowParams,
    body: WorkflowBody,
    response: WorkflowSummary,
  }),
  deleteWorkflow: defineEndpoint({
    method: 'DELETE',
    path: '/comfy/workflow/:id',
    summary: 'Delete one of the caller’s workflows',
    tag,
    auth: 'user',
    params: WorkflowParams,
    response: z.object({ success: z.literal(true), message: z.string() }),
  }),
  analyzeWorkflow: defineEndpoint({
    method: 'POST',
    path: '/comfy/analyze-workflow/:serverId',
    summary: 'Models, nodes, complexity and time of a workflow against one server',
    tag: 'Analyze Workflow',
    auth: 'user',
    params: ServerParams,
    body: WorkflowOnly,
    response: Analysis,
  }),
  analyzeWorkflowOffline: defineEndpoint({
    method: 'POST',
    path: '/comfy/analyze-workflow',
    summary: 'Analyze a workflow against the bundled node definitions, without a server',
    tag: 'Analyze Workflow',
    auth: 'user',
    body: WorkflowOnly,
    response: Analysis,
  }),
  convertWorkflow: defineEndpoint({
    method: 'POST',
    path: '/comfy/convert-workflow/:serverId',
    summary: 'Convert a UI-format workflow to the API format with the server’s node definitions',
    tag,
    auth: 'user',
    params: ServerParams,
    body: WorkflowOnly,
    response: Conversion,
  }),
  convertWorkflowOffline: defineEndpoint({
    method: 'POST',
    path: '/comfy/convert-workflow',
    summary: 'Convert a UI-format workflow to the API format with the bundled node definitions',
    tag,
    auth: 'user',
    body: WorkflowOnly,
    response: Conversion,
  }),
};
