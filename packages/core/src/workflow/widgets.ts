import type { InputDefinition } from './object-info.js';

/** Where a widget's value sits in the saved node: an array index, or a key of object-form `widgets_values`. */
export type WidgetSlot = number | string;

export interface MappedWidget {
  value: unknown;
  slot: WidgetSlot;
}

export interface WidgetMapping {
  byName: Map<string, MappedWidget>;
  /** Values were left over or missing: the saved node and the definition disagree. */
  mismatch: boolean;
}

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
 * never sent. Object-form `widgets_values` is keyed by widget name.
 */
export function mapWidgetValues(
  saved: readonly unknown[] | Record<string, unknown> | undefined,
  definitions: readonly InputDefinition[],
): WidgetMapping {
  const widgets = definitions.filter((d) => d.widget);
  const byName = new Map<string, MappedWidget>();
  if (saved === undefined) return { byName, mismatch: false };
  if (!Array.isArray(saved)) {
    const record = saved as Record<string, unknown>;
    for (const w of widgets) {
      if (Object.prototype.hasOwnProperty.call(record, w.name)) byName.set(w.name, { value: record[w.name], slot: w.name });
    }
    return { byName, mismatch: false };
  }
  const values = saved;
  let i = 0;
  for (let wi = 0; wi < widgets.length && i < values.length; wi++) {
    const w = widgets[wi]!;
    while (i < values.length && values[i] === null && values.length - i > expectedFrom(widgets, wi)) i++;
    if (i >= values.length) break;
    byName.set(w.name, { value: values[i], slot: i });
    i++;
    if (!w.control || !isControlValue(values[i])) continue;
    i++;
    const surplus = values.length - i - expectedFrom(widgets, wi + 1);
    if (w.type === 'COMBO' && surplus > 0 && typeof values[i] === 'string') i++;
  }
  const uploads = definitions.some((d) => d.upload) ? 1 : 0;
  const leftover = values.length - i;
  const mismatch = byName.size < widgets.length || leftover > uploads;
  return { byName, mismatch };
}
