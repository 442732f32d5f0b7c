import { describe, expect, it } from 'vitest';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { editorGraph } from '../../src/workflow/graph-model.js';
import { fixtureText } from './fixtures.js';

describe('readWorkflowDocument', () => {
  it('recognises a UI-format workflow and locates each node type in the text', () => {
    const text = fixtureText('txt2img.comfy.json');
    const doc = readWorkflowDocument(text)!;
    expect(doc.format).toBe('ui');
    expect(doc.nodes.map((n) => n.id)).toEqual(['4', '6', '7', '5', '3', '8', '9', '10']);
    const sampler = doc.nodes.find((n) => n.id === '3')!;
    expect(text.slice(sampler.typeSpan.offset, sampler.typeSpan.offset + sampler.typeSpan.length)).toBe('"KSampler"');
    expect(doc.nodes.find((n) => n.id === '10')!.mode).toBe('bypassed');
    expect(doc.links).toHaveLength(9);
    expect(doc.links[0]).toMatchObject({ id: '1', from: '4', fromSlot: 0, to: '3', toSlot: 0, type: 'MODEL' });
  });

  it('recognises an API-format workflow and turns [id, slot] inputs into links', () => {
    const doc = readWorkflowDocument(fixtureText('txt2img-api.json'))!;
    expect(doc.format).toBe('api');
    expect(doc.links.find((l) => l.to === '3' && l.toInput === 'positive')).toMatchObject({ from: '6', fromSlot: 0 });
    expect(doc.nodes.find((n) => n.id === '6')!.title).toBe('Positive');
  });

  it('reads v1 links written as objects', () => {
    const text = JSON.stringify({ nodes: [{ id: 1, type: 'A', pos: [0, 0] }, { id: 2, type: 'B', pos: [300, 0] }], links: [{ id: 7, origin_id: 1, origin_slot: 0, target_id: 2, target_slot: 1, type: 'X' }] });
    expect(readWorkflowDocument(text)!.links[0]).toMatchObject({ id: '7', from: '1', to: '2', toSlot: 1, type: 'X' });
  });

  it.each([
    ['a package.json', '{"name":"x","version":"1.0.0"}'],
    ['an array', '[1,2]'],
    ['broken JSON', '{"nodes": ['],
    ['an empty object', '{}'],
  ])('says %s is not a workflow', (_what, text) => {
    expect(readWorkflowDocument(text)).toBeUndefined();
  });
});

describe('editorGraph', () => {
  it('gives a UI-format file to the graph editor as it is, with the definitions of its node classes', () => {
    const text = fixtureText('txt2img.comfy.json');
    const { graph, definitions } = editorGraph(JSON.parse(text), readWorkflowDocument(text)!, CORE_OBJECT_INFO);
    expect(graph).toEqual(JSON.parse(text));
    expect(Object.keys(definitions).sort()).toEqual(['CLIPTextEncode', 'CheckpointLoaderSimple', 'EmptyLatentImage', 'KSampler', 'PreviewImage', 'SaveImage', 'VAEDecode']);
    // ComfyUI's widget order: the control after the seed takes the next place in widgets_values.
    expect(definitions['KSampler']!.widgets.map((w) => w.name)).toEqual(['seed', 'control_after_generate', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']);
    expect(definitions['KSampler']!.widgets[2]).toEqual({ name: 'steps', kind: 'number', integer: true, min: 1, max: 10000 });
    expect(definitions['KSampler']!.inputs.map((i) => i.name)).toEqual(['model', 'positive', 'negative', 'latent_image']);
    expect(definitions['CheckpointLoaderSimple']!.outputs).toEqual([{ name: 'MODEL', type: 'MODEL' }, { name: 'CLIP', type: 'CLIP' }, { name: 'VAE', type: 'VAE' }]);
  });

  it('makes an API-format file a graph laid out in columns by link depth, widget values in definition order', () => {
    const text = fixtureText('txt2img-api.json');
    const { graph } = editorGraph(JSON.parse(text), readWorkflowDocument(text)!, CORE_OBJECT_INFO);
    const node = (id: string) => graph.nodes.find((n) => n.id === id) as unknown as { pos: [number, number]; widgets_values: unknown[]; inputs: { name: string; link: number }[] };
    expect(node('4').pos[0]).toBe(0);
    expect(node('6').pos[0]).toBeGreaterThan(node('4').pos[0]);
    expect(node('3').pos[0]).toBeGreaterThan(node('6').pos[0]);
    expect(node('3').widgets_values).toEqual([42, 'fixed', 20, 8, 'euler', 'normal', 1]);
    expect(node('3').inputs.map((i) => i.name)).toEqual(['model', 'positive', 'negative', 'latent_image']);
    expect(graph.links).toHaveLength(readWorkflowDocument(text)!.links.length);
  });

  it('drops links to nodes that are not there and survives a cycle', () => {
    const text = JSON.stringify({ a: { class_type: 'A', inputs: { x: ['b', 0] } }, b: { class_type: 'B', inputs: { y: ['a', 0], z: ['gone', 0] } } });
    const { graph } = editorGraph(JSON.parse(text), readWorkflowDocument(text)!, CORE_OBJECT_INFO);
    expect(graph.links).toHaveLength(2);
    expect(graph.nodes).toHaveLength(2);
  });
});
