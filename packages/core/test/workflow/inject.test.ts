import { describe, expect, it } from 'vitest';
import { findParameterTargets, injectParameters, toApiPrompt, type ApiPrompt } from '@comfy-vast/core';
import { loadCase } from './corpus.js';

const api = (name: string): ApiPrompt => loadCase(name).api;
const input = (prompt: ApiPrompt, id: string, name: string): unknown => prompt[id]!.inputs[name];

describe('injectParameters', () => {
  it('fills a KSampler workflow and never changes its input', () => {
    const original = api('t2i-seed-control');
    const before = structuredClone(original);
    const { prompt, warnings, applied } = injectParameters(original, {
      prompt: 'a lighthouse', negativePrompt: 'fog', steps: 12, cfg: 4, seed: 99, sampler: 'dpmpp_2m', scheduler: 'normal',
      denoise: 0.9, width: 832, height: 1216, batchSize: 2,
    });
    expect(original).toEqual(before);
    expect(warnings).toEqual([]);
    expect(prompt['6']!.inputs['text']).toBe('a lighthouse');
    expect(prompt['7']!.inputs['text']).toBe('fog');
    expect(prompt['3']!.inputs).toMatchObject({ steps: 12, cfg: 4, seed: 99, sampler_name: 'dpmpp_2m', scheduler: 'normal', denoise: 0.9 });
    expect(prompt['5']!.inputs).toEqual({ width: 832, height: 1216, batch_size: 2 });
    expect(applied.find((a) => a.parameter === 'steps')).toEqual({ parameter: 'steps', nodeId: '3', input: 'steps', value: 12, previous: 25 });
  });

  it('reaches the encoders through ControlNet apply nodes', () => {
    const { prompt } = injectParameters(api('controlnet'), { prompt: 'edges', negativePrompt: 'noise' });
    expect(input(prompt, '6', 'text')).toBe('edges');
    expect(input(prompt, '7', 'text')).toBe('noise');
  });

  it('sets both passes of an SDXL refiner, and warns that KSamplerAdvanced has no denoise', () => {
    const { prompt, warnings } = injectParameters(api('sdxl-refiner'), { prompt: 'owl', negativePrompt: 'dark', steps: 40, seed: 5, denoise: 0.5, width: 896 });
    for (const id of ['10', '11']) expect(prompt[id]!.inputs).toMatchObject({ steps: 40, noise_seed: 5 });
    expect([input(prompt, '6', 'text'), input(prompt, '15', 'text')]).toEqual(['owl', 'owl']);
    expect([input(prompt, '7', 'text'), input(prompt, '16', 'text')]).toEqual(['dark', 'dark']);
    expect(input(prompt, '5', 'width')).toBe(896);
    expect(warnings).toEqual([expect.objectContaining({ code: 'parameter_no_target', field: 'denoise' })]);
  });

  it('fills the SamplerCustomAdvanced family of a FLUX workflow', () => {
    const { prompt, warnings } = injectParameters(api('flux'), { prompt: 'a dog', seed: 11, steps: 4, sampler: 'dpmpp_2m', scheduler: 'beta', denoise: 0.8, height: 512, cfg: 2 });
    expect(input(prompt, '4', 'text')).toBe('a dog');
    expect(input(prompt, '7', 'noise_seed')).toBe(11);
    expect(prompt['9']!.inputs).toMatchObject({ steps: 4, scheduler: 'beta', denoise: 0.8 });
    expect(input(prompt, '8', 'sampler_name')).toBe('dpmpp_2m');
    expect(input(prompt, '6', 'height')).toBe(512);
    // BasicGuider has no cfg: FLUX guidance lives in FluxGuidance, which a node override sets.
    expect(warnings).toEqual([expect.objectContaining({ code: 'parameter_no_target', field: 'cfg' })]);
  });

  it('picks a random seed for -1 from the given source', () => {
    const { prompt } = injectParameters(api('t2i-seed-control'), { seed: -1 }, { random: () => 0.5 });
    expect(input(prompt, '3', 'seed')).toBe(2 ** 47);
  });

  it('applies node overrides by id, title and class, and reports misses and ambiguity', () => {
    const { prompt, warnings } = injectParameters(api('sdxl-refiner'), {
      nodes: { '5.batch_size': 3, 'Refiner.cfg': 5.5, 'CLIPTextEncodeSDXLRefiner.ascore': 4, '99.text': 'x', 'Base.nope': 1 },
    });
    expect(input(prompt, '5', 'batch_size')).toBe(3);
    expect(input(prompt, '11', 'cfg')).toBe(5.5);
    expect(input(prompt, '10', 'cfg')).toBe(7);
    expect([input(prompt, '15', 'ascore'), input(prompt, '16', 'ascore')]).toEqual([4, 4]);
    expect(warnings.map((w) => [w.code, w.field])).toEqual([
      ['parameter_ambiguous', 'CLIPTextEncodeSDXLRefiner.ascore'],
      ['parameter_no_target', '99.text'],
      ['parameter_no_target', 'Base.nope'],
    ]);
  });

  it('wraps list values of overrides', () => {
    const { prompt } = injectParameters(api('flux'), { nodes: { '2.clip_name1': ['a', 'b'] } });
    expect(input(prompt, '2', 'clip_name1')).toEqual({ __value__: ['a', 'b'] });
  });

  it('warns when a parameter has no target at all', () => {
    const noLatent = toApiPrompt(loadCase('t2i-seed-control').api).prompt;
    delete noLatent['5'];
    const { warnings } = injectParameters(noLatent, { width: 640 });
    expect(warnings).toEqual([expect.objectContaining({ code: 'parameter_no_target', field: 'width' })]);
  });
});

describe('findParameterTargets', () => {
  it('names the UI node and widgets_values index of each value', () => {
    const { format, fields } = findParameterTargets(loadCase('t2i-seed-control').ui);
    expect(format).toBe('ui');
    const field = (parameter: string) => fields.find((f) => f.parameter === parameter);
    expect(field('seed')).toMatchObject({ nodeId: '3', value: 156680208700286, widget: { nodeId: '3', slot: 0 } });
    expect(field('steps')).toMatchObject({ value: 25, widget: { nodeId: '3', slot: 2 } });
    expect(field('prompt')).toMatchObject({ nodeId: '6', value: 'a red fox', widget: { nodeId: '6', slot: 0 } });
    expect(field('height')).toMatchObject({ nodeId: '5', widget: { nodeId: '5', slot: 1 } });
  });

  it('points at the PrimitiveNode that feeds a converted widget', () => {
    const { fields } = findParameterTargets(loadCase('primitive-and-notes').ui);
    expect(fields.find((f) => f.parameter === 'seed')).toMatchObject({ value: 42, widget: { nodeId: '30', slot: 0 } });
  });

  it('points at values promoted onto subgraph and group-node instances', () => {
    const sub = findParameterTargets(loadCase('subgraph').ui).fields.find((f) => f.parameter === 'prompt');
    expect(sub).toMatchObject({ nodeId: '10:1', widget: { nodeId: '10', slot: 0 } });
    const group = findParameterTargets(loadCase('group-node').ui).fields.find((f) => f.parameter === 'prompt');
    expect(group).toMatchObject({ nodeId: '4:1', value: 'a castle', widget: { nodeId: '4', slot: 1 } });
  });

  it('works on API prompts, without widget positions', () => {
    const { format, fields } = findParameterTargets(loadCase('flux').api);
    expect(format).toBe('api');
    expect(fields.find((f) => f.parameter === 'seed')).toMatchObject({ nodeId: '7', input: 'noise_seed', widget: undefined });
  });
});
