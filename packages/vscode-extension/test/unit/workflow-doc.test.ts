import { describe, expect, it } from 'vitest';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { graphModel } from '../../src/workflow/graph-model.js';
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

describe('graphModel', () => {
  it('keeps saved positions and titles, marks bypassed nodes and computes the bounds', () => {
    const graph = graphModel(readWorkflowDocument(fixtureText('txt2img.comfy.json'))!);
    expect(graph.nodes.find((n) => n.id === '6')).toMatchObject({ title: 'Positive prompt', type: 'CLIPTextEncode', x: 415, y: 186, width: 422 });
    expect(graph.nodes.find((n) => n.id === '10')!.mode).toBe('bypassed');
    expect(graph.links).toContainEqual({ from: '8', to: '9', type: 'IMAGE' });
    expect(graph.bounds).toEqual({ x: 26, y: 186, width: 1661 - 26, height: 746 - 186 });
  });

  it('lays an API-format graph out in columns by link depth', () => {
    const graph = graphModel(readWorkflowDocument(fixtureText('txt2img-api.json'))!);
    const x = (id: string) => graph.nodes.find((n) => n.id === id)!.x;
    expect(x('4')).toBe(0);
    expect(x('6')).toBeGreaterThan(x('4'));
    expect(x('3')).toBeGreaterThan(x('6'));
    expect(x('9')).toBeGreaterThan(x('8'));
  });

  it('drops links to nodes that are not there and survives a cycle', () => {
    const text = JSON.stringify({ a: { class_type: 'A', inputs: { x: ['b', 0] } }, b: { class_type: 'B', inputs: { y: ['a', 0], z: ['gone', 0] } } });
    const graph = graphModel(readWorkflowDocument(text)!);
    expect(graph.links).toHaveLength(2);
    expect(graph.nodes).toHaveLength(2);
  });
});
