import type { InputDefinition } from './object-info.js';

/** Where a widget's value sits in the saved node: an array index, or a key of object-form `widgets_values`. */
export type WidgetSlot = number | string;

/** Receives each mapped widget: its input name, saved value and where that value sits. */
export type WidgetVisitor = (name: string, value: unknown, slot: WidgetSlot) => void;

const CONTROL_VALUES = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);

export const isControlValue = (value: unknown): boolean => typeof value === 'string' && CONTROL_VALUES.has(value);

/** How many saved values the widgets from `definitions[from]` on take when every control value is present. */
function expectedFrom(definitions: readonly InputDefinition[], from: number): number {
  let count = 0;
  for (let i = from; i < definitions.length; i++) if (definitions[i]!.widget) count += definitions[i]!.control ? 2 : 1;
  return count;
}

/**
 * Maps `widgets_values` to input names (protocol reference 3.3): one value per widget in input order;
 * a control value after seeds and `control_after_generate` widgets when one is saved (older workflows lack it);
 * an old frontend's filter-list string after a combo's control value; `null` holes left by non-serialised DOM
 * widgets, skipped while there are more values than widgets; upload-button values, which come last and are
 * never sent. Object-form `widgets_values` is keyed by widget name. Returns true when the values and the
 * definition disagree (values left over or missing).
 */
export function mapWidgetValues(
  saved: readonly unknown[] | Record<string, unknown> | undefined,
  definitions: readonly InputDefinition[],
  visit: WidgetVisitor,
): boolean {
  if (saved === undefined) return false;
  // Plain loops over the definitions, skipping non-widgets: this runs once per node of every conversion.
  if (!Array.isArray(saved)) {
    const record = saved as Record<string, unknown>;
    for (const d of definitions) {
      if (d.widget && Object.prototype.hasOwnProperty.call(record, d.name)) visit(d.name, record[d.name], d.name);
    }
    return false;
  }
  const values = saved;
  let widgets = 0;
  let mapped = 0;
  let uploads = 0;
  let i = 0;
  for (let di = 0; di < definitions.length; di++) {
    const w = definitions[di]!;
    if (w.upload) uploads = 1;
    if (!w.widget) continue;
    widgets++;
    if (i >= values.length) continue;
    while (i < values.length && values[i] === null && values.length - i > expectedFrom(definitions, di)) i++;
    if (i >= values.length) continue;
    visit(w.name, values[i], i);
    mapped++;
    i++;
    if (!w.control || !isControlValue(values[i])) continue;
    i++;
    const surplus = values.length - i - expectedFrom(definitions, di + 1);
    if (w.type === 'COMBO' && surplus > 0 && typeof values[i] === 'string') i++;
  }
  const leftover = values.length - i;
  return mapped < widgets || leftover > uploads;
}
