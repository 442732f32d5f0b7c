/**
 * Everything the extension takes from core's workflow module, in one place: format validation, UI → API
 * conversion, the bundled node definitions and the frontend's widget rules.
 */
import {
  CORE_OBJECT_INFO,
  analyzeWorkflow,
  describeInputs,
  outputTypes,
  findParameterTargets,
  parseObjectInfo,
  parseWorkflow,
  toApiPrompt,
  type NodeInfo,
  type ObjectInfo,
  type ParameterField as CoreParameterField,
  type ParameterName as CoreParameterName,
  type WorkflowAnalysis,
} from '@comfy-vast/core/workflow';
import type { ParameterName } from '../protocol/messages.js';

export { CORE_OBJECT_INFO, describeInputs, outputTypes, parseObjectInfo, toApiPrompt, type NodeInfo, type ObjectInfo, type WorkflowAnalysis };

// The form's parameter names are core's: a rename on either side fails to compile here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const PARAMETER_NAMES_MATCH: Same<ParameterName, CoreParameterName> = true;

/** Where core's injector would put each generation parameter; none when the workflow is not valid. */
export function parameterTargets(json: unknown, objectInfo: ObjectInfo): CoreParameterField[] {
  try {
    return findParameterTargets(json, { objectInfo }).fields;
  } catch {
    return [];
  }
}

/** Core's offline analysis (required models with folders and known download links); undefined when invalid. */
export function analyzeLocally(json: unknown, objectInfo: ObjectInfo): WorkflowAnalysis | undefined {
  try {
    return analyzeWorkflow(json, { objectInfo });
  } catch {
    return undefined;
  }
}

/** A schema problem core found, named by node and field. */
export interface SchemaIssue {
  nodeId?: string;
  field?: string;
  message: string;
}

/** Core's validation of the workflow's shape; an empty list when it is sound. */
export function schemaIssues(json: unknown): SchemaIssue[] {
  try {
    parseWorkflow(json);
    return [];
  } catch (error) {
    const invalid = error as { code?: string; message: string; details?: { issues?: SchemaIssue[] } };
    if (invalid.code !== 'WORKFLOW_INVALID') throw error;
    const issues = invalid.details?.issues;
    return issues && issues.length > 0 ? issues : [{ message: invalid.message }];
  }
}

/** A number input's kind and limits in its definition (object_info). */
export interface NumberLimits {
  integer: boolean;
  min?: number;
  max?: number;
  step?: number;
}

/** The limits of a number input (INT or FLOAT); undefined for any other input or an unknown one. */
export function numberLimits(info: NodeInfo | undefined, input: string): NumberLimits | undefined {
  const definition = info ? describeInputs(info).find((d) => d.name === input) : undefined;
  if (definition?.type !== 'INT' && definition?.type !== 'FLOAT') return undefined;
  const limits: NumberLimits = { integer: definition.type === 'INT' };
  for (const key of ['min', 'max', 'step'] as const) {
    const value = definition.options[key];
    if (typeof value === 'number' && Number.isFinite(value)) limits[key] = value;
  }
  return limits;
}

/** The allowed values of a combo input, or undefined for any other input. */
export function comboChoices(info: NodeInfo | undefined, input: string): string[] | undefined {
  const choices = info ? describeInputs(info).find((d) => d.name === input)?.choices : undefined;
  return choices?.map(String);
}
