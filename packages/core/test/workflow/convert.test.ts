import { describe, expect, it } from 'vitest';
import { toApiPrompt } from '@comfy-vast/core';
import { loadCase, loadCorpus } from './corpus.js';

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
