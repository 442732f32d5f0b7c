import { describe, expect, it } from 'vitest';
import { IdIndex, sameId } from '../../src/workflow/id-index.js';
import { toApiPrompt, type UiWorkflow } from '@comfy-vast/core';

describe('IdIndex', () => {
  it('treats an id and its string form as one key, like a map keyed by String(id)', () => {
    const index = new IdIndex<string>(2);
    index.set(5, 'five').set('7', 'seven').set('05', 'padded').set(-10, 'input').set('a:b', 'named').set(2 ** 30, 'large').set(1.5, 'fraction');
    expect([index.get('5'), index.get(7), index.get('05'), index.get(5)]).toEqual(['five', 'seven', 'padded', 'five']);
    expect([index.get('-10'), index.get('a:b'), index.get(String(2 ** 30)), index.get('1.5')]).toEqual(['input', 'named', 'large', 'fraction']);
    expect([index.get(6), index.get('x'), index.get(''), index.get(1)]).toEqual([undefined, undefined, undefined, undefined]);
    index.set('5', 'again');
    expect(index.get(5)).toBe('again');
  });

  it('compares ids across their JSON types', () => {
    expect([sameId(5, '5'), sameId('5', 5), sameId(5, 5), sameId(-20, '-20')]).toEqual([true, true, true, true]);
    expect([sameId(5, '05'), sameId(5, 6), sameId('a', 'b')]).toEqual([false, false, false]);
  });
});

describe('conversion with ids saved as strings', () => {
  it('links numbers and strings that name the same node, and keeps a repeated id to its last node', () => {
    const workflow = {
      nodes: [
        { id: '4', type: 'CheckpointLoaderSimple', widgets_values: ['first.safetensors'] },
        { id: 4, type: 'CheckpointLoaderSimple', widgets_values: ['sd_xl_base_1.0.safetensors'] },
        { id: '8', type: 'VAEDecode', inputs: [{ name: 'samples', type: 'LATENT', link: null }, { name: 'vae', type: 'VAE', link: '3' }] },
      ],
      links: [[3, '4', 2, 8, 1, 'VAE']],
    } as unknown as UiWorkflow;
    const { prompt } = toApiPrompt(workflow);
    expect(Object.keys(prompt)).toEqual(['4', '8']);
    expect(prompt['4']!.inputs).toEqual({ ckpt_name: 'sd_xl_base_1.0.safetensors' });
    expect(prompt['8']!.inputs).toEqual({ vae: ['4', 2] });
  });
});
