import type { InputDefinition } from './object-info.js';

/** Where a widget's value sits in the saved node: an array index, or a key of object-form `widgets_values`. */
export type WidgetSlot = number | string;

/** Receives each mapped widget: its input name, saved value and where that value sits. */
export type WidgetVisitor = (name: string, value: unknown, slot: WidgetSlot) => void;

const CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);

export const isControlValue = (value: unknown): boolean => typeof value === 'string' && CONTROL_VALUES.has(value);

/** How many saved values the remaining widgets take when every control value is present. */
function expectedFrom(widgets: readonly InputDefinition[], from: number): number {
  let count = 0;
  for (let i = from; i < widgets.length; i++) count += widgets[i]!.control ? 2 : 1;
  return count;
}

/**
 * Maps `widgets_values` to input names (protocol reference 3.3): one value per widget in input order;
 * a control value after seeds and `control_after_generate` widgets when one is saved (older workflows lack it);
 * an old frontend's filter-list string after a combo's control value; `null` holes left by non-serialised DOM
 * widgets, skipped while there are more values than widgets; upload-button values, which come last and are
 * never sent. Object-form `widgets_values` is keyed by widget name. Returns whether the values and the
 * definition disagree (values left over or missing).
 */
export function mapWidgetValues(
  saved: readonly unknown[] | Record<string, unknown> | undefined,
  definitions: readonly InputDefinition[],
  visit: WidgetVisitor,
): { mismatch: boolean } {
  const widgets = definitions.filter((d) => d.widget);
  if (saved === undefined) return { mismatch: false };
  if (!Array.isArray(saved)) {
    const record = saved as Record<string, unknown>;
    for (const w of widgets) {
      if (Object.prototype.hasOwnProperty.call(record, w.name)) visit(w.name, record[w.name], w.name);
    }
    return { mismatch: false };
  }
  let mapped = 0;
  const values = saved;
  let i = 0;
  for (let wi = 0; wi < widgets.length && i < values.length; wi++) {
    const w = widgets[wi]!;
    while (i < values.length && values[i] === null && values.length - i > expectedFrom(widgets, wi)) i++;
    if (i >= values.length) break;
    visit(w.name, values[i], i);
    mapped++;
    i++;
    if (!w.control || !isControlValue(values[i])) continue;
    i++;
    const surplus = values.length - i - expectedFrom(widgets, wi + 1);
    if (w.type === 'COMBO' && surplus > 0 && typeof values[i] === 'string') i++;
  }
  const uploads = definitions.some((d) => d.upload) ? 1 : 0;
  const leftover = values.length - i;
  return { mismatch: mapped < widgets.length || leftover > uploads };
}
