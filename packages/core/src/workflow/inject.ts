import type { ApiPrompt } from './api-schema.js';
import { convertUiWorkflow, wrapValue } from './convert.js';
import type { ValueSource } from './scope.js';
import { NodeCatalog, type ObjectInfo } from './object-info.js';
import { PARAMETER_NAMES, type GenerationParameters, type ParameterName, type ParameterTarget } from './parameters.js';
import { copyJson } from './json-copy.js';
import { ensureParsed } from './parse.js';
import { findTargetsInPrompt } from './targets.js';
import { warning, type WorkflowWarning } from './warnings.js';

export interface InjectOptions {
  objectInfo?: ObjectInfo;
  /** Source of randomness for `seed: -1`; a number in [0, 1). */
  random?: () => number;
}

/** One value written into the prompt. */
export interface AppliedParameter {
  parameter: ParameterName | `nodes.${string}`;
  nodeId: string;
  input: string;
  value: unknown;
  previous: unknown;
}

export interface InjectionResult {
  prompt: ApiPrompt;
  warnings: WorkflowWarning[];
  applied: AppliedParameter[];
}

/** Seeds ComfyUI accepts are 64-bit; 2^48 keeps them exact in a JavaScript number. */
const SEED_RANGE = 2 ** 48;

/**
 * Writes generation parameters into an API prompt and returns a new prompt; the input is never changed.
 * Targets are found as documented in docs/workflows.md; a parameter with no target, and a choice between
 * several, is reported in `warnings`.
 */
export function injectParameters(apiPrompt: ApiPrompt, params: GenerationParameters, options: InjectOptions = {}): InjectionResult {
  const prompt = copyJson(apiPrompt);
  const catalog = new NodeCatalog(options.objectInfo);
  const { targets, warnings } = findTargetsInPrompt(prompt, catalog);
  const applied: AppliedParameter[] = [];
  const write = (parameter: AppliedParameter['parameter'], nodeId: string, input: string, value: unknown): void => {
    const inputs = prompt[nodeId]!.inputs;
    applied.push({ parameter, nodeId, input, value, previous: inputs[input] });
    inputs[input] = wrapValue(value);
  };
  const seed = params.seed === -1 ? Math.floor((options.random ?? Math.random)() * SEED_RANGE) : params.seed;
  for (const parameter of PARAMETER_NAMES) {
    const value = parameter === 'seed' ? seed : params[parameter];
    if (value === undefined) continue;
    const found = targets.filter((t) => t.parameter === parameter);
    if (found.length === 0) warnings.push(warning('parameter_no_target', `No node in the workflow takes "${parameter}"`, undefined, parameter));
    for (const target of found) write(parameter, target.nodeId, target.input, value);
  }
  for (const [key, value] of Object.entries(params.nodes ?? {})) {
    const matches = matchOverride(prompt, key, catalog);
    if (!matches) {
      warnings.push(warning('parameter_no_target', `No node input matches "${key}" (expected "<node id, title or class>.<input>")`, undefined, key));
      continue;
    }
    if (matches.nodeIds.length > 1) {
      warnings.push(warning('parameter_ambiguous', `"${key}" matches nodes ${matches.nodeIds.join(', ')}; all of them were set`, undefined, key));
    }
    for (const nodeId of matches.nodeIds) write(`nodes.${key}`, nodeId, matches.input, value);
  }
  return { prompt, warnings, applied };
}

/**
 * Resolves `"<node>.<input>"`: the node part is tried as an id, then a title, then a class type, splitting at
 * each dot from the right so that titles may contain dots. The input must exist on the node or its definition.
 */
function matchOverride(prompt: ApiPrompt, key: string, catalog: NodeCatalog): { nodeIds: string[]; input: string } | undefined {
  for (let dot = key.lastIndexOf('.'); dot > 0; dot = key.lastIndexOf('.', dot - 1)) {
    const node = key.slice(0, dot);
    const input = key.slice(dot + 1);
    const accepts = (id: string): boolean => {
      const n = prompt[id]!;
      return input in n.inputs || (catalog.inputs(n.class_type)?.some((d) => d.name === input) ?? false);
    };
    const ids = Object.keys(prompt);
    for (const matcher of [(id: string) => id === node, (id: string) => prompt[id]!._meta?.title === node, (id: string) => prompt[id]!.class_type === node]) {
      const nodeIds = ids.filter((id) => matcher(id) && accepts(id));
      if (nodeIds.length > 0) return { nodeIds, input };
    }
  }
  return undefined;
}

/** A parameter target, and for a UI workflow the saved widget that holds its value. */
export interface ParameterField extends ParameterTarget {
  /** UI workflows: the node (full id, `outer:inner` inside subgraphs) and `widgets_values` index or key. */
  widget: ValueSource | undefined;
}

export interface ParameterFields {
  format: 'ui' | 'api';
  fields: ParameterField[];
  warnings: WorkflowWarning[];
}

/**
 * Finds the parameter targets of a workflow in either format with their current values, for forms that edit
 * them. For a UI workflow each field names the node and `widgets_values` slot holding the value.
 */
export function findParameterTargets(workflow: unknown, options: { objectInfo?: ObjectInfo } = {}): ParameterFields {
  const parsed = ensureParsed(workflow);
  const catalog = new NodeCatalog(options.objectInfo);
  if (parsed.format === 'api') {
    const { targets, warnings } = findTargetsInPrompt(parsed.prompt, catalog);
    return { format: 'api', fields: targets.map((t) => ({ ...t, widget: undefined })), warnings };
  }
  const conversion = convertUiWorkflow(parsed.workflow, catalog, true);
  const { targets, warnings } = findTargetsInPrompt(conversion.prompt, catalog);
  const fields = targets.map((t) => ({ ...t, widget: conversion.sources?.get(t.nodeId)?.get(t.input) }));
  return { format: 'ui', fields, warnings: [...conversion.warnings, ...warnings] };
}
