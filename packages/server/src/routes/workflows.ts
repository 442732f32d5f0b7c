import type { ComfyVast, WorkflowRecord } from '@comfy-vast/core';
import { contract } from '../contract/index.js';
import { route } from '../http/route.js';
import type { RouteContext } from './context.js';

/** A workflow as the API shows it: whose it is stays inside, the API says whether it is built in. */
function summary<T extends WorkflowRecord>(record: T) {
  const { userId, builtinKey: _key, ...rest } = record;
  return { ...rest, builtin: userId === null };
}

export function registerWorkflowRoutes({ fastify, comfyVast }: RouteContext): void {
  route(fastify, contract.listWorkflows, async ({ user, params }) => (await comfyVast.listWorkflows(user.id, params.serverId)).map(summary));

  route(fastify, contract.createWorkflow, async ({ user, body }) => {
    const record = await comfyVast.createWorkflow(user.id, body);
    return { id: record.id, name: record.name, message: 'Workflow created successfully' };
  });

  route(fastify, contract.getWorkflow, ({ user, params }) => summary(comfyVast.getWorkflow(user.id, params.id)));
  route(fastify, contract.replaceWorkflow, async ({ user, params, body }) => summary(await comfyVast.replaceWorkflow(user.id, params.id, body)));
  route(fastify, contract.deleteWorkflow, async ({ user, params }) => {
    await comfyVast.deleteWorkflow(user.id, params.id);
    return { success: true as const, message: 'Workflow deleted' };
  });

  route(fastify, contract.analyzeWorkflow, ({ user, params, body }) => comfyVast.analyzeWorkflow(user.id, params.serverId, body.workflow));
  route(fastify, contract.analyzeWorkflowOffline, ({ user, body }) => comfyVast.analyzeWorkflow(user.id, null, body.workflow));
  route(fastify, contract.convertWorkflow, ({ user, params, body }) => conversion(comfyVast.convertWorkflow(user.id, params.serverId, body.workflow)));
  route(fastify, contract.convertWorkflowOffline, ({ user, body }) => conversion(comfyVast.convertWorkflow(user.id, null, body.workflow)));
}

/** The conversion as the API answers it: the prompt and what was found on the way. */
async function conversion(result: ReturnType<ComfyVast['convertWorkflow']>) {
  const { prompt, warnings, notes } = await result;
  return { prompt, warnings, notes };
}
