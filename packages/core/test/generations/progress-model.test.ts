import { describe, expect, it } from 'vitest';
import { builtinPrompt, ProgressModel } from '@comfy-vast/core';

// Built-in workflow 1 (SDXL): checkpoint, VAE loader, two text encoders, latent, 25-step KSampler, decode, save.
const prompt = builtinPrompt(1)!;
const id = (cls: string, n = 0) => Object.keys(prompt).filter((k) => prompt[k]!.class_type === cls)[n]!;
const order = ['CheckpointLoaderSimple', 'VAELoader', 'CLIPTextEncode', 'CLIPTextEncode#1', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'SaveImage'].map((c) =>
  c.endsWith('#1') ? id(c.slice(0, -2), 1) : id(c),
);

describe('ProgressModel', () => {
  it('weighs the sampler by its steps and counts the nodes that ran', () => {
    const model = new ProgressModel(prompt);
    expect(model.totalNodes).toBe(8);
    for (const node of order.slice(0, 5)) model.startNode(node);
    model.startNode(id('KSampler'));
    expect(model.completedNodes).toBe(5);
    const before = model.percent;
    model.step(id('KSampler'), 10, 20);
    // The sampler weighs 20 of 27 units: half of its steps is about 37 points.
    expect(model.percent - before).toBeGreaterThanOrEqual(35);
    model.step(id('KSampler'), 20, 20);
    model.startNode(id('VAEDecode'));
    model.startNode(id('SaveImage'));
    expect(model.completedNodes).toBe(7);
    expect(model.percent).toBeLessThanOrEqual(99);
  });

  it('leaves cached nodes out, and resumes from the nodes stored as done', () => {
    const cached = order.slice(0, 5);
    const model = new ProgressModel(prompt, cached);
    expect(model.totalNodes).toBe(3);
    model.startNode(id('KSampler'));
    model.startNode(id('VAEDecode'));
    const resumed = new ProgressModel(prompt, cached, model.completed);
    expect(resumed.completedNodes).toBe(1);
    expect(resumed.percent).toBe(model.percent);
    expect(resumed.classOf(id('KSampler'))).toBe('KSampler');
  });
});
