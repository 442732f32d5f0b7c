import { describe, expect, it } from 'vitest';
import { describeInputs, type NodeInfo } from '../../src/workflow/object-info.js';
import { mapWidgetValues, widgetDefault } from '../../src/workflow/widgets.js';

const info = (required: Record<string, unknown[]>): NodeInfo => ({ input: { required }, input_order: { required: Object.keys(required) } }) as NodeInfo;
function values(node: NodeInfo, saved: unknown[] | Record<string, unknown>, definitions = describeInputs(node)): Record<string, unknown> {
  const mapped: Record<string, unknown> = {};
  mapWidgetValues(saved, definitions, (name, value) => (mapped[name] = value));
  return mapped;
}
const mismatch = (node: NodeInfo, saved: unknown[]): boolean => mapWidgetValues(saved, describeInputs(node), () => undefined);

describe('mapWidgetValues', () => {
  const sampler = info({ model: ['MODEL'], seed: ['INT', {}], steps: ['INT', {}] });

  it('skips the control value after a seed, and reads seeds saved without one', () => {
    expect(values(sampler, [5, 'increment', 20])).toEqual({ seed: 5, steps: 20 });
    expect(values(sampler, [5, 20])).toEqual({ seed: 5, steps: 20 });
  });

  it('skips a 2023 boolean control after a seed, and a control word in any case', () => {
    expect(values(sampler, [5, true, 20])).toEqual({ seed: 5, steps: 20 });
    expect(values(sampler, [5, false, 20])).toEqual({ seed: 5, steps: 20 });
    expect(values(sampler, [5, 'Randomize', 20])).toEqual({ seed: 5, steps: 20 });
    expect(values(sampler, [5, 'FIXED', 20])).toEqual({ seed: 5, steps: 20 });
    expect(mismatch(sampler, [5, true, 20])).toBe(false);
  });

  it('gives a boolean after a seed to a toggle that follows when the count shows no control value', () => {
    const node = info({ seed: ['INT', { control_after_generate: true }], tiled: ['BOOLEAN', {}], steps: ['INT', {}] });
    expect(values(node, [5, true, 20])).toEqual({ seed: 5, tiled: true, steps: 20 });
    expect(values(node, [5, false, true, 20])).toEqual({ seed: 5, tiled: true, steps: 20 });
  });

  it('leaves widgets the values do not reach unmapped, without calling it a mismatch', () => {
    const node = info({ image: ['IMAGE'], crop: [['center', 'none']] });
    expect(values(node, [])).toEqual({});
    expect(mismatch(node, [])).toBe(false);
  });

  it('gives combos with control_after_generate a control value and skips an old filter list after it', () => {
    const node = info({ ckpt: [['a', 'b'], { control_after_generate: true }], steps: ['INT', {}] });
    expect(values(node, ['b', 'increment-wrap', 7])).toEqual({ ckpt: 'b', steps: 7 });
    expect(values(node, ['b', 'increment-wrap', '', 7])).toEqual({ ckpt: 'b', steps: 7 });
  });

  it('gives forceInput and link-type inputs no value', () => {
    const node = info({ a: ['INT', { forceInput: true }], image: ['IMAGE'], b: ['FLOAT', {}] });
    expect(values(node, [0.5])).toEqual({ b: 0.5 });
  });

  it('treats a type the saved node marks as a widget as one', () => {
    const node = info({ points: ['POINTS'], n: ['INT', {}] });
    expect(values(node, [[1, 2], 3], describeInputs(node, new Set(['points'])))).toEqual({ points: [1, 2], n: 3 });
  });

  it('reports values that do not fit the definition', () => {
    expect(mismatch(sampler, [1, 2, 3, 4])).toBe(true);
    expect(mismatch(sampler, [1, 'fixed', 2])).toBe(false);
  });

  it('reads object-form values by name', () => {
    expect(values(sampler, { steps: 9, seed: 1, preview: 'x' })).toEqual({ seed: 1, steps: 9 });
  });
});

describe('widgetDefault', () => {
  const [int, float, text, toggle, combo, listed, given, empty, custom] = describeInputs(
    info({
      int: ['INT', {}], float: ['FLOAT', {}], text: ['STRING', { multiline: true }], toggle: ['BOOLEAN', {}], combo: [['center', 'none']],
      listed: ['COMBO', { options: ['a', 'b'] }], given: ['INT', { default: 6, min: 0 }], empty: [[]], custom: ['POINTS', { widgetType: 'POINTS' }],
    }),
  );

  it('is the definition default, else what a new widget of that kind holds', () => {
    expect([int, float, text, toggle, combo, listed, given].map((d) => widgetDefault(d!))).toEqual([0, 0, '', false, 'center', 'a', 6]);
  });

  it('is undefined for an empty combo and an extension widget without a default', () => {
    expect(widgetDefault(empty!)).toBeUndefined();
    expect(widgetDefault(custom!)).toBeUndefined();
  });
});
