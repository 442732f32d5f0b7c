import type { InputSpec, ObjectInfo } from './catalog.js';
import { isLink, type ApiPrompt } from './prompt.js';

export interface ErrorItem {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrors {
  errors: ErrorItem[];
  dependent_outputs: string[];
  class_type: string;
}

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeErrors> }
  | { ok: false; error: ErrorItem; nodeErrors: Record<string, NodeErrors> };

class ValidationException extends Error {
  constructor(
    message: string,
    readonly exceptionType: string,
  ) {
    super(message);
  }
}

const fail = (type: string, message: string, details = ''): ValidationResult => ({
  ok: false,
  error: { type, message, details, extra_info: {} },
  nodeErrors: {},
});

/** Python's `str()` of a list of strings, as ComfyUI prints combo options in `value_not_in_list`. */
const pyList = (values: unknown[]): string => `[${values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ')}]`;

/**
 * ComfyUI's `validate_prompt` (execution.py), messages and shapes as recorded from a real server:
 * class check, at least one output node, then every input reachable from each output.
 */
export function validatePrompt(prompt: ApiPrompt, info: ObjectInfo): ValidationResult {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    if (typeof node?.class_type !== 'string') {
      return fail('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${id}'`);
    }
    const cls = info[node.class_type];
    if (!cls) return fail('invalid_prompt', `Cannot execute because node ${node.class_type} does not exist.`, `Node ID '#${id}'`);
    if (cls.output_node) outputs.push(id);
  }
  if (outputs.length === 0) return fail('prompt_no_outputs', 'Prompt has no outputs');

  const validated = new Map<string, { ok: boolean; errors: ErrorItem[] }>();
  const good: string[] = [];
  const outputErrors: ErrorItem[] = [];
  const nodeErrors: Record<string, NodeErrors> = {};
  for (const out of outputs.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b))) {
    let ok: boolean;
    try {
      ok = validateNode(prompt, info, out, validated, []);
    } catch (ex) {
      const e = ex as ValidationException;
      validated.set(out, {
        ok: false,
        errors: [{ type: 'exception_during_validation', message: 'Exception when validating node', details: e.message, extra_info: { exception_type: e.exceptionType, traceback: [] } }],
      });
      ok = false;
    }
    if (ok) {
      good.push(out);
      continue;
    }
    outputErrors.push(...(validated.get(out)?.errors ?? []));
    for (const [id, v] of validated) {
      if (v.ok || v.errors.length === 0) continue;
      const entry = (nodeErrors[id] ??= { errors: v.errors, dependent_outputs: [], class_type: String(prompt[id]?.class_type) });
      if (!entry.dependent_outputs.includes(out)) entry.dependent_outputs.push(out);
    }
  }
  if (good.length === 0) {
    const details = outputErrors.map((e) => `${e.message}: ${e.details}`).join('\n');
    return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, nodeErrors };
  }
  return { ok: true, outputs: good, nodeErrors };
}

function validateNode(prompt: ApiPrompt, info: ObjectInfo, id: string, validated: Map<string, { ok: boolean; errors: ErrorItem[] }>, stack: string[]): boolean {
  const done = validated.get(id);
  if (done) return done.ok;
  const node = prompt[id]!;
  const cls = info[String(node.class_type)]!;
  const inputs = node.inputs ?? {};
  const errors: ErrorItem[] = [];
  let ok = true;
  const declared: [string, InputSpec, boolean][] = [
    ...(cls.input_order.required ?? []).map((n) => [n, cls.input.required![n]!, true] as [string, InputSpec, boolean]),
    ...(cls.input_order.optional ?? []).map((n) => [n, cls.input.optional![n]!, false] as [string, InputSpec, boolean]),
  ];
  for (const [name, spec, required] of declared) {
    const [type, options = {}] = spec;
    const config = [type, options];
    if (!(name in inputs)) {
      if (required) errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
      continue;
    }
    let value = inputs[name];
    if (Array.isArray(value)) {
      if (!isLink(value)) {
        errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: name, extra_info: { input_name: name, input_config: config, received_value: value } });
        continue;
      }
      const source = prompt[value[0]];
      if (!source) throw new ValidationException(`'${value[0]}'`, 'KeyError');
      const received = info[String(source.class_type)]?.output[value[1]];
      if (received === undefined) throw new ValidationException('tuple index out of range', 'IndexError');
      if (!typesMatch(received, type)) {
        errors.push({
          type: 'return_type_mismatch',
          message: 'Return type mismatch between linked nodes',
          details: `${name}, received_type(${received}) mismatch input_type(${String(type)})`,
          extra_info: { input_name: name, input_config: config, received_type: received, linked_node: value },
        });
        continue;
      }
      if (stack.includes(value[0])) {
        errors.push({ type: 'dependency_cycle', message: 'Dependency cycle detected', details: `${name}, ${value[0]}`, extra_info: { input_name: name, linked_node: value } });
        continue;
      }
      if (!validateNode(prompt, info, value[0], validated, [...stack, id])) ok = false;
      continue;
    }
    if (value && typeof value === 'object' && '__value__' in value) value = (value as { __value__: unknown }).__value__;
    const converted = convert(type, value);
    if ('error' in converted) {
      errors.push({
        type: 'invalid_input_type',
        message: `Failed to convert an input value to a ${String(type)} value`,
        details: `${name}, ${String(value)}, ${converted.error}`,
        extra_info: { input_name: name, input_config: config, received_value: value, exception_message: converted.error },
      });
      continue;
    }
    const v = converted.value;
    if (typeof options.min === 'number' && typeof v === 'number' && v < options.min) {
      errors.push({ type: 'value_smaller_than_min', message: `Value ${v} smaller than min of ${options.min}`, details: name, extra_info: { input_name: name, input_config: config, received_value: v } });
      continue;
    }
    if (typeof options.max === 'number' && typeof v === 'number' && v > options.max) {
      errors.push({ type: 'value_bigger_than_max', message: `Value ${v} bigger than max of ${options.max}`, details: name, extra_info: { input_name: name, input_config: config, received_value: v } });
      continue;
    }
    const combo = Array.isArray(type) ? type : type === 'COMBO' && Array.isArray(options.options) ? options.options : undefined;
    if (combo && !combo.includes(v)) {
      const long = combo.length > 20;
      errors.push({
        type: 'value_not_in_list',
        message: 'Value not in list',
        details: `${name}: '${String(v)}' not in ${long ? `(list of length ${combo.length})` : pyList(combo)}`,
        extra_info: { input_name: name, input_config: long ? null : config, received_value: v },
      });
    }
  }
  if (errors.length > 0) ok = false;
  validated.set(id, { ok, errors });
  return ok;
}

/** ComfyUI's link check: `*` matches anything, comma lists intersect, a combo accepts a COMBO/STRING source. */
function typesMatch(received: string, expected: string | unknown[]): boolean {
  if (Array.isArray(expected)) return received === 'COMBO' || received === 'STRING' || received === '*';
  if (received === '*' || expected === '*') return true;
  const a = received.split(',');
  return expected.split(',').some((t) => a.includes(t));
}

/** Python's int()/float()/str()/bool() coercions, with their error messages. */
function convert(type: string | unknown[], value: unknown): { value: unknown } | { error: string } {
  switch (type) {
    case 'INT': {
      if (typeof value === 'number') return { value: Math.trunc(value) };
      if (typeof value === 'boolean') return { value: value ? 1 : 0 };
      if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return { value: Number(value) };
      return { error: `invalid literal for int() with base 10: '${String(value)}'` };
    }
    case 'FLOAT': {
      if (typeof value === 'number') return { value };
      if (typeof value === 'boolean') return { value: value ? 1 : 0 };
      if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return { value: Number(value) };
      return { error: `could not convert string to float: '${String(value)}'` };
    }
    case 'STRING':
      return { value: typeof value === 'string' ? value : JSON.stringify(value) };
    case 'BOOLEAN':
      // Python's bool(): any non-empty string is true, "false" included.
      return { value: typeof value === 'string' ? value.length > 0 : Boolean(value) };
    default:
      return { value };
  }
}
