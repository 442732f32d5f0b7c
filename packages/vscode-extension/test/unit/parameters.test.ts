import { describe, expect, it } from 'vitest';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { findParameters } from '../../src/workflow/parameters.js';
import { applyEdit, replaceValue, replaceValues } from '../../src/workflow/value-edit.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { fixtureText, objectInfo } from './fixtures.js';

const parameters = (text: string, info = CORE_OBJECT_INFO) => findParameters(JSON.parse(text), readWorkflowDocument(text)!, info);
const values = (text: string) => Object.fromEntries(parameters(text).map((p) => [p.field.name, p.field.value]));

describe('findParameters', () => {
  it('locates the values core’s injector targets in a UI-format workflow', () => {
    expect(values(fixtureText('txt2img.comfy.json'))).toEqual({
      prompt: 'a lighthouse on a cliff at sunset, oil painting',
      negativePrompt: 'blurry, low quality',
      seed: 156680208700286,
      steps: 20,
      cfg: 8,
      sampler: 'euler',
      scheduler: 'normal',
      denoise: 1,
      width: 512,
      height: 512,
      batchSize: 1,
    });
  });

  it('finds the same parameters in API format', () => {
    expect(values(fixtureText('txt2img-api.json'))).toMatchObject({ prompt: 'a red fox in the snow', negativePrompt: 'blurry', seed: 42, batchSize: 1 });
  });

  it('offers the server’s choices for sampler and scheduler, named after the node that holds them', () => {
    const sampler = parameters(fixtureText('txt2img.comfy.json'), objectInfo()).find((p) => p.field.name === 'sampler')!.field;
    expect(sampler).toMatchObject({ kind: 'choice', node: 'KSampler #3' });
    expect(sampler.options).toContain('dpmpp_2m');
    expect(sampler.options).toEqual(objectInfo().KSampler!.input.required!.sampler_name![0]);
  });

  it('carries the node definitions’ limits', () => {
    const fields = Object.fromEntries(parameters(fixtureText('txt2img.comfy.json'), objectInfo()).map((p) => [p.field.name, p.field]));
    expect(fields.steps).toMatchObject({ min: 1, max: 10000 });
    expect(fields.denoise).toMatchObject({ min: 0, max: 1 });
    expect(fields.width).toMatchObject({ min: 16, step: 8 });
    expect(fields.cfg!.step).toBeUndefined();
  });

  it('gives one edit for a value a PrimitiveNode feeds to two samplers', () => {
    const text = fixtureText('shared-steps.comfy.json');
    const steps = parameters(text).find((p) => p.field.name === 'steps')!;
    expect(steps.targets).toHaveLength(2);
    const edits = replaceValues(steps.targets, 30);
    expect(edits).toHaveLength(1);
    expect(JSON.parse(applyEdit(text, edits[0]!)).nodes.find((n: { id: number }) => n.id === 12).widgets_values).toEqual([30, 'fixed']);
  });

  it('gives nothing for a file core does not accept as a workflow', () => {
    const text = JSON.stringify({ nodes: [{ id: 'x' }], links: [] });
    expect(findParameters(JSON.parse(text), { format: 'ui', nodes: [], links: [] }, CORE_OBJECT_INFO)).toEqual([]);
  });

  it('collects every place of a parameter shared by two samplers', () => {
    const api = JSON.parse(fixtureText('txt2img-api.json'));
    api['10'] = { class_type: 'KSampler', inputs: { ...api['3'].inputs, seed: 7, latent_image: ['3', 0] } };
    const text = JSON.stringify(api, null, 2);
    const steps = parameters(text).find((p) => p.field.name === 'steps')!;
    expect(steps.targets).toHaveLength(2);
    const after = replaceValues(steps.targets, 25)
      .sort((a, b) => b.offset - a.offset)
      .reduce(applyEdit, text);
    expect(JSON.parse(after)['3'].inputs.steps).toBe(25);
    expect(JSON.parse(after)['10'].inputs.steps).toBe(25);
  });
});

describe('replaceValue', () => {
  it('changes only the value’s characters, keeping the layout of the file', () => {
    const text = fixtureText('txt2img.comfy.json');
    const steps = parameters(text).find((p) => p.field.name === 'steps')!;
    const edit = replaceValue(steps.targets[0]!, 30)!;
    expect(edit.length).toBe(2);
    const after = applyEdit(text, edit);
    expect(after.length).toBe(text.length);
    expect(after.split('\n').filter((line, i) => line !== text.split('\n')[i])).toEqual(['        30,']);
    expect(values(after).steps).toBe(30);
  });

  it('escapes text and gives nothing to do when the value is unchanged', () => {
    const text = fixtureText('txt2img-api.json');
    const prompt = parameters(text).find((p) => p.field.name === 'prompt')!.targets[0]!;
    expect(replaceValue(prompt, 'a red fox in the snow')).toBeUndefined();
    expect(values(applyEdit(text, replaceValue(prompt, 'say "hi"\nthen go')!)).prompt).toBe('say "hi"\nthen go');
  });
});
