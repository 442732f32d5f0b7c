import type { ParameterTarget } from '../workflow/parameters.js';
import { replaceValues, type TextEdit } from '../workflow/value-edit.js';
import type { WorkflowDocument } from '../workflow/workflow-doc.js';

/** ComfyUI's `control_after_generate` values for a number (`increment-wrap` is for lists only). */
const SEED_CONTROLS = ['fixed', 'increment', 'decrement', 'randomize'] as const;
export type SeedControl = (typeof SEED_CONTROLS)[number];

/** ComfyUI draws random seeds below 2^50, which a JavaScript number holds exactly. */
const RANDOM_LIMIT = 2 ** 50;

/**
 * What the workflow says to do with its seed on each generation: the control value saved right after the seed
 * widget (UI format). API-format files save none, so their seed stays as written.
 */
export function seedControl(doc: WorkflowDocument, seed: ParameterTarget): SeedControl {
  for (const target of seed.targets) {
    const node = doc.nodes.find((n) => n.widgets.includes(target));
    const control = node?.widgets[node.widgets.indexOf(target) + 1]?.value;
    const known = SEED_CONTROLS.find((c) => c === control);
    if (known) return known;
  }
  return 'fixed';
}

/** The next seed as ComfyUI's widget computes it: one up, one down or random, kept within min and max. */
export function nextSeed(current: number, control: SeedControl, limits: { min?: number; max?: number }, random: () => number): number {
  const min = limits.min ?? 0;
  const max = limits.max ?? RANDOM_LIMIT;
  const next = {
    fixed: current,
    increment: current + 1,
    decrement: current - 1,
    randomize: min + Math.floor(random() * (Math.min(max, RANDOM_LIMIT) - min)),
  }[control];
  return Math.min(max, Math.max(min, next));
}

/**
 * The seed a generation runs with, computed before it is queued, and the minimal edits that write it into the
 * file (none when the workflow keeps its seed fixed), so the file holds the seed of its latest image.
 */
export function planSeed(doc: WorkflowDocument, parameters: ParameterTarget[], random: () => number): { seed: number; edits: TextEdit[] } | undefined {
  const seed = parameters.find((p) => p.field.name === 'seed');
  if (!seed || typeof seed.field.value !== 'number') return undefined;
  const used = nextSeed(seed.field.value, seedControl(doc, seed), seed.field, random);
  return { seed: used, edits: replaceValues(seed.targets, used) };
}
