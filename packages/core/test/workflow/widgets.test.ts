import { describe, expect, it } from 'vitest';
import { describeInputs, type NodeInfo } from '../../src/workflow/object-info.js';
import { mapWidgetValues } from '../../src/workflow/widgets.js';

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
