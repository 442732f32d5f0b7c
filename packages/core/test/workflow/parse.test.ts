import { describe, expect, it } from 'vitest';
import { ComfyVastError, detectWorkflowFormat, parseWorkflow } from '@comfy-vast/core';
import { loadCase } from './corpus.js';

function parseError(json: unknown): ComfyVastError {
  try {
    parseWorkflow(json);
  } catch (error) {
    if (error instanceof ComfyVastError) return error;
    throw error;
  }
  throw new Error('parseWorkflow accepted invalid input');
}

describe('parseWorkflow', () => {
  it('detects both formats', () => {
    const { ui, api } = loadCase('flux');
    expect(parseWorkflow(ui).format).toBe('ui');
    expect(parseWorkflow(api).format).toBe('api');
    expect(detectWorkflowFormat({ hello: 1 })).toBeUndefined();
  });

  it('accepts version 1 workflows with object links and native reroutes', () => {
    const parsed = parseWorkflow(loadCase('native-reroute-v1').ui);
    expect(parsed.format === 'ui' && parsed.workflow.reroutes).toHaveLength(2);
  });

  it('keeps fields it does not know', () => {
    const { ui } = loadCase('t2i-seed-control');
    const json = structuredClone(ui) as { nodes: Record<string, unknown>[]; extra: Record<string, unknown>; custom?: unknown };
    json.custom = { kept: true };
    json.nodes[0]!['rgthree'] = { collapsed: true };
    const parsed = parseWorkflow(json);
    if (parsed.format !== 'ui') throw new Error('expected ui');
    expect((parsed.workflow as Record<string, unknown>)['custom']).toEqual({ kept: true });
    expect((parsed.workflow.nodes[0] as Record<string, unknown>)['rgthree']).toEqual({ collapsed: true });
    expect(parsed.workflow.extra?.['corpusDescription']).toBeTypeOf('string');
  });

  it('names the UI node and field at fault', () => {
    const json = structuredClone(loadCase('t2i-seed-control').ui) as { nodes: { id: number; inputs: { link: unknown }[] }[] };
    json.nodes[1]!.inputs[0]!.link = { bad: true };
    const error = parseError(json);
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.details).toMatchObject({ format: 'ui', nodeId: '6', field: 'inputs.0.link' });
    expect(error.message).toContain('node 6');
  });

  it('names the API node and input at fault', () => {
    const error = parseError({ '3': { class_type: 'KSampler', inputs: {} }, '9': { class_type: 'SaveImage', inputs: 'nope' } });
    expect(error.details).toMatchObject({ format: 'api', nodeId: '9', field: 'inputs' });
  });

  it('rejects what is neither format', () => {
    expect(parseError([1, 2]).code).toBe('WORKFLOW_INVALID');
    expect(parseError({ nodes: 'x' }).details).toMatchObject({ field: 'workflow' });
  });
});
