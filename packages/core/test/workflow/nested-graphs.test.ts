import { describe, expect, it } from 'vitest';
import { parseWorkflow, toApiPrompt, type Subgraph, type UiNode, type UiWorkflow } from '@comfy-vast/core';
import { loadCase } from './corpus.js';

/** The corpus subgraph case: root node 10 is an instance of a subgraph holding CLIPTextEncode 1. */
function subgraphCase(): UiWorkflow {
  const parsed = parseWorkflow(structuredClone(loadCase('subgraph').ui));
  if (parsed.format !== 'ui') throw new Error('the subgraph case is a UI workflow');
  return parsed.workflow;
}
const instance = (ui: UiWorkflow): UiNode => ui.nodes.find((n) => n.id === 10)!;
const definitions = (ui: UiWorkflow): Subgraph[] => ui.definitions!.subgraphs!;

describe('subgraphs', () => {
  it('flattens nested instances to a:b:c ids, crossing both boundaries', () => {
    const ui = subgraphCase();
    const inner = definitions(ui)[0]!;
    const OUTER = '9d3c2b1a-0f9e-4d8c-b7a6-554433221100';
    definitions(ui).push({
      id: OUTER,
      nodes: [{ id: 5, type: inner.id, mode: 0, inputs: [{ name: 'clip', type: 'CLIP', link: 201 }, { name: 'text', type: 'STRING', widget: { name: 'text' }, link: null }], outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [202] }], widgets_values: ['nested text'] }],
      links: [
        { id: 201, origin_id: -10, origin_slot: 0, target_id: 5, target_slot: 0, type: 'CLIP' },
        { id: 202, origin_id: 5, origin_slot: 0, target_id: -20, target_slot: 0, type: 'CONDITIONING' },
      ],
      inputs: [{ name: 'clip', type: 'CLIP', linkIds: [201] }],
      outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', linkIds: [202] }],
    });
    Object.assign(instance(ui), { type: OUTER, inputs: [{ name: 'clip', type: 'CLIP', link: 3 }], widgets_values: [] });
    const { prompt, warnings } = toApiPrompt(ui);
    expect(warnings).toEqual([]);
    expect(prompt['10:5:1']).toEqual({ class_type: 'CLIPTextEncode', inputs: { text: 'nested text', clip: ['4', 1] }, _meta: { title: 'CLIP Text Encode (Prompt)' } });
    expect(prompt['3']!.inputs['positive']).toEqual(['10:5:1', 0]);
    expect(Object.keys(prompt).filter((id) => id.startsWith('10'))).toEqual(['10:5:1']);
  });

  it('applies values promoted with properties.proxyWidgets', () => {
    const ui = subgraphCase();
    Object.assign(instance(ui), { inputs: [instance(ui).inputs![0]!], widgets_values: ['proxied text'], properties: { proxyWidgets: [['1', 'text']] } });
    const def = definitions(ui)[0]!;
    def.links!.splice(1, 1);
    def.nodes[0]!.inputs![1]!.link = null;
    expect(toApiPrompt(ui).prompt['10:1']!.inputs['text']).toBe('proxied text');
  });

  it('does not send the inner nodes of a bypassed instance, and passes nothing through it without a matching input', () => {
    const ui = subgraphCase();
    instance(ui).mode = 4;
    const { prompt, warnings } = toApiPrompt(ui);
    expect(prompt['10:1']).toBeUndefined();
    expect(prompt['3']!.inputs['positive']).toBeUndefined();
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'input_dropped', nodeId: '10' }));
  });

  it('reports an instance whose definition is missing as an unknown node', () => {
    const ui = subgraphCase();
    ui.definitions!.subgraphs = [];
    expect(toApiPrompt(ui).unknownNodes.map((n) => n.nodeId)).toEqual(['10']);
  });
});

describe('legacy group nodes', () => {
  it('link a widget converted on the instance to the inner widget of that name', () => {
    const parsed = parseWorkflow(structuredClone(loadCase('group-node').ui));
    if (parsed.format !== 'ui') throw new Error('the group-node case is a UI workflow');
    const ui = parsed.workflow;
    const encoder = ui.extra!.groupNodes!['Loader and prompt']!.nodes[1]!;
    encoder.inputs!.push({ name: 'text', type: 'STRING', widget: { name: 'text' }, link: null });
    const group = ui.nodes.find((n) => n.id === 4)!;
    group.inputs = [{ name: 'CLIP Text Encode (Prompt) text', type: 'STRING', widget: { name: 'CLIP Text Encode (Prompt) text' }, link: 99 }];
    ui.nodes.push({ id: 50, type: 'PrimitiveStringMultiline', mode: 0, inputs: [], outputs: [{ name: 'STRING', type: 'STRING', links: [99] }], widgets_values: ['from a string node'] });
    ui.links!.push([99, 50, 0, 4, 0, 'STRING']);
    const { prompt, warnings } = toApiPrompt(ui);
    expect(warnings).toEqual([]);
    expect(prompt['4:1']!.inputs['text']).toEqual(['50', 0]);
    expect(prompt['50']!.inputs).toEqual({ value: 'from a string node' });
  });

  /** The corpus case of a group node (instance 37) fed from outside: inputs VAE, pixels, model, positive, negative. */
  function groupFedFromOutside(): UiWorkflow {
    const parsed = parseWorkflow(structuredClone(loadCase('legacy-group-node-inputs').ui));
    if (parsed.format !== 'ui') throw new Error('the legacy-group-node-inputs case is a UI workflow');
    return parsed.workflow;
  }

  it('hide the inputs and outputs the definition\'s config hides, shifting the others', () => {
    const ui = groupFedFromOutside();
    // The encoder's pixels input and the sampler's LATENT output are hidden: inputs VAE, model, positive, negative; output IMAGE.
    ui.extra!.groupNodes!['Img2Img sampler']!.config = { '1': { input: { pixels: { visible: false } } }, '2': { output: { '0': { visible: false } } } };
    const group = ui.nodes.find((n) => n.id === 37)!;
    group.inputs!.splice(1, 1);
    group.outputs = [{ name: 'IMAGE', type: 'IMAGE', links: [28] }];
    ui.nodes = ui.nodes.filter((n) => n.id !== 14 && n.id !== 10);
    ui.links = ui.links!.flatMap((l) => {
      const [id, origin, originSlot, target, targetSlot, type] = l as [number, number, number, number, number, string];
      if (id === 26 || id === 27) return [];
      if (id === 28) return [[id, origin, 0, target, targetSlot, type]];
      return [target === 37 && targetSlot > 1 ? [id, origin, originSlot, target, targetSlot - 1, type] : l];
    }) as UiWorkflow['links'];
    const { prompt, warnings } = toApiPrompt(ui);
    expect(warnings).toEqual([]);
    expect(prompt['15']!.inputs['images']).toEqual(['37:4', 0]);
    expect(prompt['37:1']!.inputs).toEqual({ vae: ['1', 2] });
    expect(prompt['37:2']!.inputs).toMatchObject({ model: ['1', 0], positive: ['2', 0], negative: ['3', 0], latent_image: ['37:1', 0] });
  });

  it('pass a bypassed inner node through to the instance input that feeds it', () => {
    const ui = groupFedFromOutside();
    ui.extra!.groupNodes!['Img2Img sampler']!.nodes[1]!.mode = 4;
    const { prompt } = toApiPrompt(ui);
    expect(prompt['37:1']).toBeUndefined();
    // VAEEncode passes nothing of type LATENT through: the sampler loses its latent, as in the editor.
    expect(prompt['37:2']!.inputs['latent_image']).toBeUndefined();
    expect(prompt['37:4']!.inputs['vae']).toEqual(['1', 2]);
  });
});
