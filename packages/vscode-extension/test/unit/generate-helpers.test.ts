import { describe, expect, it } from 'vitest';
import { explainFailure } from '../../src/api/error-messages.js';
import { imageFileName, numberedName, outputSegments, workflowName } from '../../src/generate/output-paths.js';
import { ProgressIncrements } from '../../src/generate/progress-math.js';
import { nextSeed, planSeed, seedControl } from '../../src/generate/seed-control.js';
import { generateInput } from '../../src/generate/generate-input.js';
import { CORE_OBJECT_INFO, type ObjectInfo } from '../../src/workflow/core-adapter.js';
import { findParameters } from '../../src/workflow/parameters.js';
import { applyEdit } from '../../src/workflow/value-edit.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { fixtureText } from './fixtures.js';

describe('output paths', () => {
  it('names the folder after the workflow file', () => {
    expect(workflowName('/repo/workflows/portrait.comfy.json')).toBe('portrait');
    expect(workflowName('C:\\repo\\sdxl.json')).toBe('sdxl');
    expect(outputSegments('comfy-outputs', '/repo/portrait.comfy.json')).toEqual(['comfy-outputs', 'portrait']);
    expect(outputSegments('out/images/', '/repo/a:b.json')).toEqual(['out', 'images', 'a_b']);
  });

  it.each(['../elsewhere', '/tmp/out', 'C:\\out', ''])('refuses an output folder outside the workspace: %j', (setting) => {
    expect(() => outputSegments(setting, 'x.json')).toThrow(/inside the workspace/);
  });

  it('names an image by time, server and generation, keeping the image URL’s extension', () => {
    const time = Date.parse('2026-11-27T14:23:05.120Z');
    expect(imageFileName({ time, server: 'gpu-1', generationId: 456, index: 0, url: '/api/comfy/images/456_1.png' })).toBe('20261127-142305_gpu-1_456_1.png');
    expect(imageFileName({ time, server: 'My GPU: A/B', generationId: 7, index: 2, url: '/api/comfy/images/x.JPG?download=1' })).toBe('20261127-142305_My-GPU_-A_B_7_3.jpg');
    expect(imageFileName({ time, server: 'gpu', generationId: 7, index: 0, url: '/api/comfy/images/7' })).toBe('20261127-142305_gpu_7_1.png');
  });

  it('numbers a name that is taken', () => {
    expect([1, 2, 3].map((n) => numberedName('a_1.png', n))).toEqual(['a_1.png', 'a_1-2.png', 'a_1-3.png']);
  });
});

describe('ProgressIncrements', () => {
  it('turns absolute percentages into increments that never go back or past 100', () => {
    const p = new ProgressIncrements();
    expect([10, 40, 30, 100, 120].map((v) => p.next(v))).toEqual([10, 30, 0, 60, 0]);
  });
});

describe('explainFailure', () => {
  const url = 'http://127.0.0.1:5000';
  it.each([
    [{ code: 'RATE_LIMIT_EXCEEDED', message: 'x', retryAfter: 12 }, /wait 12 s/, undefined],
    [{ code: 'SERVER_NOT_RUNNING', message: 'x' }, /Start it from the Servers view/, 'startServer'],
    [{ code: 'WORKFLOW_INVALID', message: 'node 3: bad' }, /invalid: node 3: bad/, undefined],
    [{ code: 'GENERATION_FAILED', message: 'CUDA out of memory. Tried to allocate 2.00 GiB' }, /Lower the width, height or batch size/, undefined],
    [{ code: 'NOT_SIGNED_IN', message: 'x' }, /Sign In/, 'signIn'],
  ])('explains %j', (error, message, action) => {
    const explained = explainFailure(error, url);
    expect(explained.message).toMatch(message);
    expect(explained.action).toBe(action);
  });
});

describe('seed control after generate', () => {
  it('moves the seed as ComfyUI does, within the input’s limits', () => {
    const limits = { min: 0, max: 10 };
    expect(nextSeed(5, 'fixed', limits, () => 0.9)).toBe(5);
    expect(nextSeed(5, 'increment', limits, () => 0.9)).toBe(6);
    expect(nextSeed(10, 'increment', limits, () => 0.9)).toBe(10);
    expect(nextSeed(0, 'decrement', limits, () => 0.9)).toBe(0);
    expect(nextSeed(5, 'randomize', limits, () => 0.5)).toBe(5);
    expect(nextSeed(5, 'randomize', { min: 0, max: 2 ** 64 }, () => 0.999)).toBeLessThan(2 ** 50);
  });

  const planFor = (control: string) => {
    const text = fixtureText('txt2img.comfy.json').replace('"randomize"', JSON.stringify(control));
    const doc = readWorkflowDocument(text)!;
    const parameters = findParameters(JSON.parse(text), doc, CORE_OBJECT_INFO);
    return { text, doc, parameters, plan: planSeed(doc, parameters, () => 0.5) };
  };

  it('reads the control value saved after the seed, and plans the minimal edit', () => {
    const { text, doc, parameters, plan } = planFor('increment');
    expect(seedControl(doc, parameters.find((p) => p.field.name === 'seed')!)).toBe('increment');
    expect(plan!.seed).toBe(156680208700287);
    expect(plan!.edits.reduce(applyEdit, text)).toBe(text.replace('156680208700286', '156680208700287'));
  });

  it('keeps a fixed seed, and the seed of an API-format file, which saves no control value', () => {
    expect(planFor('fixed').plan).toEqual({ seed: 156680208700286, edits: [] });
    const api = fixtureText('txt2img-api.json');
    const doc = readWorkflowDocument(api)!;
    expect(planSeed(doc, findParameters(JSON.parse(api), doc, CORE_OBJECT_INFO), () => 0.5)).toEqual({ seed: 42, edits: [] });
  });
});

describe('generateInput', () => {
  it('reads the widgets with the server’s node definitions when its ComfyUI lays a node out differently', () => {
    // A ComfyUI whose KSampler has one more widget, after the seed: its saved workflows carry a value for it there.
    const json = JSON.parse(fixtureText('txt2img.comfy.json')) as { nodes: { type: string; widgets_values: unknown[] }[] };
    const sampler = json.nodes.find((n) => n.type === 'KSampler')!;
    sampler.widgets_values.splice(2, 0, 'gaussian');
    const bundled = CORE_OBJECT_INFO.KSampler!;
    const order = [...bundled.input_order!.required!];
    order.splice(order.indexOf('seed') + 1, 0, 'noise_type');
    const required = { ...bundled.input.required, noise_type: [['gaussian', 'uniform'], {}] };
    const server = { ...CORE_OBJECT_INFO, KSampler: { ...bundled, input: { ...bundled.input, required }, input_order: { ...bundled.input_order, required: order } } } as ObjectInfo;
    const doc = readWorkflowDocument(JSON.stringify(json))!;
    expect(generateInput(json, doc, 'txt2img', server).parameters).toMatchObject({ seed: 156680208700286, steps: 20, cfg: 8, sampler: 'euler' });
    expect(generateInput(json, doc, 'txt2img').parameters.steps).not.toBe(20);
  });
});
