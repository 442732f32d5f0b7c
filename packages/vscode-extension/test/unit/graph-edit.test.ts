import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GraphChange } from '../../src/protocol/messages.js';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { graphEdits } from '../../src/workflow/graph-edit.js';
import { applyEdit } from '../../src/workflow/value-edit.js';
import { fixtureText } from './fixtures.js';
import { difference } from '../support/text-difference.js';

const corpus = (name: string) => readFileSync(new URL(`../../../core/test/workflow/corpus/${name}`, import.meta.url), 'utf8');

/** The text after the changes, and the edits made. */
function edit(text: string, changes: GraphChange[]) {
  const result = graphEdits(text, changes, CORE_OBJECT_INFO);
  const after = [...result.edits].sort((a, b) => b.offset - a.offset).reduce(applyEdit, text);
  return { ...result, after };
}


describe('graphEdits', () => {
  const text = fixtureText('txt2img.comfy.json');

  it('changes a widget value and nothing else', () => {
    const { after, refused } = edit(text, [{ kind: 'widget', nodeId: '3', index: 2, value: 31 }]);
    expect(refused).toEqual([]);
    expect(difference(text, after)).toEqual(['20', '31']);
    expect(JSON.parse(after).nodes.find((n: { id: number }) => n.id === 3).widgets_values[2]).toBe(31);
  });

  it('writes a prompt as a JSON string, quotes and line breaks escaped', () => {
    const { after } = edit(text, [{ kind: 'widget', nodeId: '6', index: 0, value: 'a "red" fox\nin snow' }]);
    expect(JSON.parse(after).nodes.find((n: { id: number }) => n.id === 6).widgets_values).toEqual(['a "red" fox\nin snow']);
  });

  it('moves a node coordinate by coordinate, keeping the file’s line breaks', () => {
    const { after, edits } = edit(text, [{ kind: 'position', nodeId: '4', value: [126.4, 474] }]);
    expect(edits).toHaveLength(1);
    expect(difference(text, after)).toEqual(['26', '126.4']);
    expect(JSON.parse(after).nodes[0].pos).toEqual([126.4, 474]);
  });

  it('bypasses and mutes through the mode value', () => {
    const { after } = edit(text, [{ kind: 'mode', nodeId: '9', value: 4 }]);
    expect(JSON.parse(after).nodes.find((n: { id: number }) => n.id === 9).mode).toBe(4);
    expect(difference(text, after)).toEqual(['0', '4']);
  });

  it('refuses a value outside the definition’s limits or list, and one of another type', () => {
    expect(edit(text, [{ kind: 'widget', nodeId: '3', index: 2, value: -5 }])).toMatchObject({ edits: [], refused: ['steps must be at least 1.'] });
    expect(edit(text, [{ kind: 'widget', nodeId: '3', index: 4, value: 'not-a-sampler' }]).refused).toEqual(['sampler_name must be one of the listed values.']);
    expect(edit(text, [{ kind: 'widget', nodeId: '3', index: 2, value: 'twenty' }]).refused).toEqual(['steps takes a number.']);
    expect(edit(text, [{ kind: 'widget', nodeId: '3', index: 2, value: 2.5 }]).refused).toEqual(['steps takes a whole number.']);
    expect(edit(text, [{ kind: 'widget', nodeId: '99', index: 0, value: 1 }]).refused).toEqual(['Node #99 is not in the file.']);
  });

  it('takes any model name when the definitions list none (the bundled ones name no files)', () => {
    const { after } = edit(text, [{ kind: 'widget', nodeId: '4', index: 0, value: 'sd_xl_base_1.0.safetensors' }]);
    expect(difference(text, after)).toEqual(['v1-5-pruned-emaonly', 'sd_xl_base_1.0']);
  });

  it('edits a node inside a subgraph definition', () => {
    const sub = corpus('subgraph.ui.json');
    const id = JSON.parse(sub).definitions.subgraphs[0].id as string;
    const { after, refused } = edit(sub, [{ kind: 'widget', graph: id, nodeId: '1', index: 0, value: 'a fox, edited' }]);
    expect(refused).toEqual([]);
    expect(JSON.parse(after).definitions.subgraphs[0].nodes[0].widgets_values).toEqual(['a fox, edited']);
    expect(edit(sub, [{ kind: 'widget', graph: 'nope', nodeId: '1', index: 0, value: 'x' }]).refused).toEqual(['Subgraph nope is not in the file.']);
  });

  it('moves a group by its bounding box', () => {
    const grouped = JSON.stringify({ ...JSON.parse(text), groups: [{ title: 'Prompts', bounding: [400, 100, 460, 300] }] }, null, 2);
    const { after, edits } = edit(grouped, [{ kind: 'group', index: 0, value: [410.004, 100, 460, 300] }]);
    expect(edits).toHaveLength(1);
    expect(JSON.parse(after).groups[0].bounding).toEqual([410, 100, 460, 300]);
  });

  it('sets an API-format input through its widget’s place in the definition', () => {
    const api = fixtureText('txt2img-api.json');
    const { after } = edit(api, [{ kind: 'widget', nodeId: '3', index: 2, value: 12 }]);
    expect(JSON.parse(after)['3'].inputs.steps).toBe(12);
    expect(difference(api, after)).toEqual(['20', '12']);
    expect(edit(api, [{ kind: 'position', nodeId: '3', value: [5, 5] }])).toMatchObject({ edits: [], refused: [] });
    expect(edit(api, [{ kind: 'mode', nodeId: '3', value: 4 }]).refused).toHaveLength(1);
  });

  it('makes one edit of changes to the same place', () => {
    const { edits } = edit(text, [
      { kind: 'widget', nodeId: '3', index: 2, value: 31 },
      { kind: 'widget', nodeId: '3', index: 2, value: 31 },
    ]);
    expect(edits).toHaveLength(1);
  });
});
