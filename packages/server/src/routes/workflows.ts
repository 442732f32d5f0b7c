import { analyzeWorkflow, toApiPrompt, type AnalyzeOptions, type WorkflowRecord } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

function summary(record: WorkflowRecord) {
  const { userId, builtinKey: _key, ...rest } = record;
  return { ...rest, builtin: userId === null };
}

export function registerWorkflowRoutes({ fastify, comfyVast }: RouteContext): void {
  const { workflows, analyses } = comfyVast;

  async function analyze(userId: number, serverId: number | null, workflow: Record<string, unknown>) {
    const context: AnalyzeOptions = serverId === null ? {} : await comfyVast.serverContext(userId, serverId);
    const result = analyzeWorkflow(workflow, context);
    const { id } = await analyses.record(userId, serverId, result);
    return { analysisId: id, ...result };
  }

  route(fastify, contract.listWorkflows, async ({ user, params }) => {
    const list = workflows.list(user.id);
    // The list still answers when the server is down; it just cannot say which models are missing.
    const models = await comfyVast.serverContext(user.id, params.serverId).then(
      (context) => new Set(Object.values(context.serverModels).flat().map((name) => name.replace(/\\/g, '/'))),
      (error: unknown) => {
        if ((error as { code?: string }).code === 'SERVER_NOT_FOUND') throw error;
        return null;
      },
    );
    return list.map((record) => ({ ...summary(record), missingModels: models && record.requiredModels.filter((name) => !models.has(name)) }));
  });

  route(fastify, contract.createWorkflow, async ({ user, body }) => {
    const record = await workflows.create(user.id, body);
    return { id: record.id, name: record.name, message: 'Workflow created successfully' };
  });

  route(fastify, contract.getWorkflow, ({ user, params }) => summary(workflows.get(user.id, params.id)));
  route(fastify, contract.replaceWorkflow, async ({ user, params, body }) => summary(await workflows.replace(user.id, params.id, body)));
  route(fastify, contract.deleteWorkflow, async ({ user, params }) => {
    await workflows.delete(user.id, params.id);
    return { success: true as const, message: 'Workflow deleted' };
  });

  route(fastify, contract.analyzeWorkflow, ({ user, params, body }) => analyze(user.id, params.serverId, body.workflow));
  route(fastify, contract.analyzeWorkflowOffline, ({ user, body }) => analyze(user.id, null, body.workflow));

  route(fastify, contract.convertWorkflow, async ({ user, params, body }) => {
    const { objectInfo } = await comfyVast.serverContext(user.id, params.serverId);
    const { prompt, warnings, notes } = toApiPrompt(body.workflow, { objectInfo });
    return { prompt, warnings, notes };
  });
  route(fastify, contract.convertWorkflowOffline, ({ body }) => {
    const { prompt, warnings, notes } = toApiPrompt(body.workflow);
    return { prompt, warnings, notes };
  });
}
