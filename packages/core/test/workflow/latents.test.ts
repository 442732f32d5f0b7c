import { describe, expect, it } from 'vitest';
import type { ApiPrompt } from '@comfy-vast/core';
import { LatentSources } from '../../src/workflow/latents.js';

const empty = { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } };
const sampler = (latent: string) => ({ class_type: 'KSampler', inputs: { latent_image: [latent, 0], steps: 20 } });

describe('LatentSources', () => {
  const hiresFix: ApiPrompt = {
    '1': empty,
    '2': sampler('1'),
    '3': { class_type: 'LatentUpscale', inputs: { samples: ['2', 0], width: 1536, height: 1536 } },
    '4': sampler('3'),
  };

  it('looks past earlier samplers only when asked', () => {
    expect([...new LatentSources(hiresFix, { throughSamplers: true }).of('4')]).toEqual(['1']);
    expect([...new LatentSources(hiresFix, { throughSamplers: false }).of('4')]).toEqual([]);
    expect([...new LatentSources(hiresFix, { throughSamplers: false }).of('2')]).toEqual(['1']);
  });

  it('counts a source reached on two paths once, and gives none through a loop without a way out', () => {
    const prompt: ApiPrompt = {
      '1': empty,
      '2': { class_type: 'LatentComposite', inputs: { samples_to: ['1', 0], samples_from: ['1', 0] } },
      '3': sampler('2'),
      '4': { class_type: 'LatentBlend', inputs: { samples1: ['4', 0], samples2: ['5', 0] } },
      '5': { class_type: 'LatentBlend', inputs: { samples1: ['4', 0] } },
      '6': sampler('4'),
    };
    const latents = new LatentSources(prompt, { throughSamplers: true });
    expect([...latents.of('3')]).toEqual(['1']);
    expect([...latents.of('6')]).toEqual([]);
  });

  it('finds a source behind a loop whatever sampler is asked first', () => {
    const prompt: ApiPrompt = {
      '1': empty,
      '2': { class_type: 'LatentBlend', inputs: { samples1: ['3', 0], samples2: ['1', 0] } },
      '3': sampler('2'),
      '4': sampler('3'),
      '5': sampler('2'),
    };
    for (const order of [['3', '4', '5'], ['5', '4', '3'], ['4', '5', '3']]) {
      const latents = new LatentSources(prompt, { throughSamplers: true });
      expect(order.map((id) => [...latents.of(id)])).toEqual(order.map(() => ['1']));
    }
  });

  it('answers a loop of samplers that all read its last one, each sampler once', () => {
    // Every link of a 2,000-sampler loop composites the output of a side sampler that reads the loop's end.
    const prompt: ApiPrompt = { e: empty };
    const n = 2_000;
    for (let i = 0; i < n; i++) {
      prompt[`c${i}`] = { class_type: 'LatentComposite', inputs: { samples_to: [i === 0 ? 'e' : `k${i - 1}`, 0], samples_from: [`t${i}`, 0] } };
      prompt[`t${i}`] = sampler(`k${n - 1}`);
      prompt[`k${i}`] = sampler(`c${i}`);
    }
    const latents = new LatentSources(prompt, { throughSamplers: true });
    const samplers = Object.keys(prompt).filter((id) => id !== 'e' && !id.startsWith('c'));
    expect(samplers.every((id) => [...latents.of(id)].join() === 'e')).toBe(true);
  });

  it('follows a chain of 20,000 samplers without recursion', () => {
    const prompt: ApiPrompt = { '0': empty };
    for (let i = 1; i <= 20_000; i++) prompt[String(i)] = sampler(String(i - 1));
    const latents = new LatentSources(prompt, { throughSamplers: true });
    expect([...latents.of('20000')]).toEqual(['0']);
    expect([...latents.of('1')]).toEqual(['0']);
  });
});
