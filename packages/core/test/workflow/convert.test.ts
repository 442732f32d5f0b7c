import { describe, expect, it } from 'vitest';
import { analyzeWorkflow, toApiPrompt, type ObjectInfo } from '@comfy-vast/core';
import { loadCase, loadCorpus, realObjectInfo } from './corpus.js';

const OLDER_FORMATS = ['legacy-seed-boolean', 'legacy-group-node-inputs', 'widgets-added-later'];

describe('toApiPrompt on the corpus', () => {
  for (const c of loadCorpus()) {
    it(`${c.name}: ${c.description}`, () => {
      const { prompt } = toApiPrompt(c.ui);
      // Strict: the output must be plain JSON data (plain objects and arrays), as the server receives it.
      expect(prompt).toStrictEqual(c.api);
    });
  }
});

describe('toApiPrompt reports', () => {
  it('a muted node that an input pointed at', () => {
    const { warnings } = toApiPrompt(loadCase('mute').ui);
    expect(warnings).toContainEqual(expect.objectContaining({ code: 'input_dropped', nodeId: '9', field: 'images' }));
  });

  it('a node type known to no definitions, with its pack', () => {
    const { unknownNodes, warnings } = toApiPrompt(loadCase('unknown-node').ui);
    expect(unknownNodes).toEqual([{ nodeId: '20', type: 'UltimateSDUpscale', cnr_id: 'comfyui_ultimatesdupscale' }]);
    expect(warnings.map((w) => w.code)).toContain('unknown_node_type');
  });

  it('nothing for a clean workflow', () => {
    expect(toApiPrompt(loadCase('t2i-seed-control').ui).warnings).toEqual([]);
  });
});

describe('toApiPrompt on older formats', () => {
  it('converts them the same with a real server\'s definitions, and warns of nothing', () => {
    const objectInfo = realObjectInfo() as ObjectInfo;
    for (const name of OLDER_FORMATS) {
      const c = loadCase(name);
      const { prompt, warnings } = toApiPrompt(c.ui, { objectInfo });
      expect(prompt, name).toStrictEqual(c.api);
      expect(warnings, name).toEqual([]);
    }
  });

  it('notes each default sent for a widget the node gained after the save, as information only', () => {
    const { warnings, notes } = toApiPrompt(loadCase('widgets-added-later').ui);
    expect(warnings).toEqual([]);
    expect(notes.map((n) => [n.code, n.nodeId, n.field])).toEqual([
      ['widget_default_used', '2', 'device'],
      ['widget_default_used', '7', 'crop'],
      ['widget_default_used', '10', 'grow_mask_by'],
      ['widget_default_used', '11', 'style'],
    ]);
    expect(notes[1]!.message).toContain('"center"');
    expect(analyzeWorkflow(loadCase('widgets-added-later').ui).notes).toEqual(notes);
  });

  it('notes nothing for files that hold every widget value', () => {
    for (const name of ['legacy-seed-boolean', 'legacy-group-node-inputs', 't2i-seed-control']) expect(toApiPrompt(loadCase(name).ui).notes, name).toEqual([]);
  });

  it('still warns of values left over after the last widget', () => {
    const ui = structuredClone(loadCase('legacy-seed-boolean').ui) as { nodes: { id: number; widgets_values?: unknown[] }[] };
    ui.nodes.find((n) => n.id === 5)!.widgets_values = [512, 512, 1, 'extra'];
    expect(toApiPrompt(ui).warnings).toContainEqual(expect.objectContaining({ code: 'widget_values_mismatch', nodeId: '5' }));
  });
});

describe('toApiPrompt with extension widgets', () => {
  const objectInfo = {
    Points: {
      input: { required: { image: ['IMAGE'], points: ['POINTS'], strength: ['FLOAT', { default: 1 }] } },
      output: ['IMAGE'],
      output_node: false,
      name: 'Points',
      display_name: 'Points',
      category: 'test',
    },
  } as unknown as ObjectInfo;
  const workflow = (inputs: unknown[]) => ({
    nodes: [{ id: 1, type: 'Points', mode: 0, inputs, outputs: [], widgets_values: ['[[1,2]]', 0.5] }],
    links: [],
  });

  it('maps a saved value to an input the node marks as a widget although its definition does not', () => {
    const marked = toApiPrompt(workflow([{ name: 'points', type: 'POINTS', widget: { name: 'points' }, link: null }, { name: 'strength', type: 'FLOAT', widget: { name: 'strength' }, link: null }]), { objectInfo });
    expect(marked.prompt['1']!.inputs).toEqual({ points: '[[1,2]]', strength: 0.5 });
    const plain = toApiPrompt(workflow([{ name: 'strength', type: 'FLOAT', widget: { name: 'strength' }, link: null }]), { objectInfo });
    expect(plain.prompt['1']!.inputs).toEqual({ strength: '[[1,2]]' });
  });
});
