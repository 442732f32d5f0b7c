import { describe, expect, it } from 'vitest';
import { UiWorkflowBuilder, analyzeWorkflow, parseWorkflow, toApiPrompt, type ApiPrompt, type UiWorkflow } from '@comfy-vast/core';

/** A value `depth` levels deep, objects and arrays in turn, with "bottom" at the end. */
function nest(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? { next: value } : [value];
  return value;
}

/** The innermost container of a `nest` value (read with a loop: vitest's own equality would recurse). */
function innermost(value: unknown, depth: number): { next: unknown } {
  let current = value;
  for (let level = depth - 1; level > 0; level--) current = level % 2 === 0 ? (current as { next: unknown }).next : (current as unknown[])[0];
  return current as { next: unknown };
}

/** Converts and analyses once from a single parse, as a route does. */
function convertAndAnalyse(workflow: unknown) {
  const parsed = parseWorkflow(workflow);
  return { ...toApiPrompt(parsed), analysis: analyzeWorkflow(parsed) };
}

describe('values of any depth', () => {
  for (const depth of [2_000, 100_000]) {
    it(`parse, convert and analyse with a value nested ${depth.toLocaleString('en')} levels deep`, () => {
      const builder = new UiWorkflowBuilder();
      const checkpoint = builder.add('CheckpointLoaderSimple', ['model.safetensors']);
      const encoder = builder.add('CLIPTextEncode', [nest(depth)]);
      builder.connect(checkpoint, 1, encoder, 'clip');
      const ui = builder.build({ extra: { deep: nest(depth) } });
      const fromUi = convertAndAnalyse(ui);
      // An array at the top would read as a link: it is sent wrapped.
      const text = fromUi.prompt['2']!.inputs['text'] as { __value__: unknown[] };
      expect(innermost(text.__value__, depth).next).toBe('bottom');
      expect(fromUi.analysis.requiredModels.map((m) => m.name)).toEqual(['model.safetensors']);

      const api: ApiPrompt = { '1': { class_type: 'CLIPTextEncode', inputs: { text: nest(depth), clip: ['2', 1] } } };
      const fromApi = convertAndAnalyse(api);
      const copied = fromApi.prompt['1']!.inputs['text'];
      // Booleans only: vitest would print a deep value with recursion.
      expect(copied === api['1']!.inputs['text']).toBe(false);
      expect(innermost(copied, depth) === innermost(api['1']!.inputs['text'], depth)).toBe(false);
      expect(innermost(copied, depth).next).toBe('bottom');
      expect(fromApi.analysis.complexity).toBe('low');
    });
  }
});

/**
 * A checkpoint (node 1) whose MODEL reaches a sampler through `length` nodes of `type` (written lean: the builder's
 * full nodes would make the test slow, not the conversion), each passing it on from its first input.
 */
function chain(length: number, type: string, extra: Record<string, unknown> = {}) {
  const sampler = length + 2;
  const nodes: unknown[] = [{ id: 1, type: 'CheckpointLoaderSimple', mode: 0, outputs: [{ name: 'MODEL', type: 'MODEL', links: [1] }], widgets_values: ['model.safetensors'] }];
  const links: unknown[] = [];
  for (let id = 2; id < sampler; id++) {
    nodes.push({ id, type, mode: 0, inputs: [{ name: 'model', type: 'MODEL', link: id - 1 }], outputs: [{ name: 'MODEL', type: 'MODEL', links: [id] }], ...extra });
    links.push([id - 1, id - 1, 0, id, 0, 'MODEL']);
  }
  nodes.push({ id: sampler, type: 'KSampler', mode: 0, inputs: [{ name: 'model', type: 'MODEL', link: sampler - 1 }], widgets_values: [1, 'fixed', 20, 8, 'euler', 'normal', 1] });
  links.push([sampler - 1, sampler - 1, 0, sampler, 0, 'MODEL']);
  return { ui: { nodes, links }, sampler: String(sampler) };
}

const SUBGRAPH_LINKS = { links: [], inputs: [], outputs: [] };

describe('graphs of any shape', () => {
  it('follows a chain of 100,000 reroutes', () => {
    const { ui, sampler } = chain(100_000, 'Reroute');
    const { prompt, warnings, analysis } = convertAndAnalyse(ui);
    expect(prompt[sampler]!.inputs['model']).toEqual(['1', 0]);
    expect(warnings.map((w) => w.code)).not.toContain('link_cycle');
    expect(analysis.requiredModels.map((m) => m.name)).toEqual(['model.safetensors']);
  });

  it('passes through a chain of 100,000 bypassed nodes', () => {
    const { ui, sampler } = chain(100_000, 'LoraLoaderModelOnly', { mode: 4, widgets_values: ['lora.safetensors', 1] });
    const { prompt, analysis } = convertAndAnalyse(ui);
    expect(prompt[sampler]!.inputs['model']).toEqual(['1', 0]);
    expect(Object.keys(prompt)).toEqual(['1', sampler]);
    expect(analysis.requiredModels.map((m) => m.name)).toEqual(['model.safetensors']);
  });

  it('reads subgraph definitions nested 100,000 levels deep', () => {
    let innermostDefinition: Record<string, unknown> = { id: 'level-0', nodes: [{ id: 1, type: 'CLIPTextEncode', mode: 0, inputs: [], widgets_values: ['deep'] }], ...SUBGRAPH_LINKS };
    for (let level = 1; level < 100_000; level++) innermostDefinition = { id: `level-${level}`, nodes: [], ...SUBGRAPH_LINKS, definitions: { subgraphs: [innermostDefinition] } };
    const ui = { nodes: [{ id: 7, type: 'level-0', mode: 0 }], links: [], definitions: { subgraphs: [innermostDefinition] } };
    const { prompt, warnings } = convertAndAnalyse(ui);
    expect(prompt['7:1']).toMatchObject({ class_type: 'CLIPTextEncode', inputs: { text: 'deep' } });
    expect(warnings).toEqual([]);
  });

  it('flattens instances nested 2,000 levels deep', () => {
    const depth = 2_000;
    const subgraphs = Array.from({ length: depth }, (_, level) => ({
      id: `level-${level}`,
      nodes: level + 1 < depth ? [{ id: 1, type: `level-${level + 1}`, mode: 0 }] : [{ id: 1, type: 'CLIPTextEncode', mode: 0, inputs: [], widgets_values: ['deepest'] }],
      ...SUBGRAPH_LINKS,
    }));
    const { prompt, warnings } = convertAndAnalyse({ nodes: [{ id: 1, type: 'level-0', mode: 0 }], links: [], definitions: { subgraphs } });
    expect(warnings).toEqual([]);
    expect(Object.keys(prompt)).toEqual([Array.from({ length: depth + 1 }, () => '1').join(':')]);
  });

  it('reports a subgraph that contains itself and a loop of reroutes, and converts the rest', () => {
    const ui = {
      nodes: [
        { id: 1, type: 'self', mode: 0 },
        { id: 2, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 11 }], outputs: [{ name: '', type: '*', links: [10, 12] }] },
        { id: 3, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 10 }], outputs: [{ name: '', type: '*', links: [11] }] },
        { id: 4, type: 'VAEDecode', mode: 0, inputs: [{ name: 'samples', type: 'LATENT', link: 12 }, { name: 'vae', type: 'VAE', link: null }], outputs: [] },
      ],
      links: [[10, 2, 0, 3, 0, '*'], [11, 3, 0, 2, 0, '*'], [12, 2, 0, 4, 0, 'LATENT']],
      definitions: { subgraphs: [{ id: 'self', nodes: [{ id: 1, type: 'self', mode: 0 }, { id: 2, type: 'EmptyLatentImage', mode: 0, widgets_values: [64, 64, 1] }], ...SUBGRAPH_LINKS }] },
    };
    const { prompt, warnings } = convertAndAnalyse(ui);
    expect(prompt).toEqual({
      '1:2': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 }, _meta: { title: 'Empty Latent Image' } },
      '4': { class_type: 'VAEDecode', inputs: {}, _meta: { title: 'VAE Decode' } },
    });
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'link_cycle', nodeId: '1:1' }));
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'link_cycle', nodeId: expect.stringMatching(/^[23]$/) }));
  });
});
