import type { InputDefinition } from './object-info.js';

/** Where a widget's value sits in the saved node: an array index, or a key of object-form `widgets_values`. */
export type WidgetSlot = number | string;

/** Receives each mapped widget: its input name, saved value and where that value sits. */
export type WidgetVisitor = (name: string, value: unknown, slot: WidgetSlot) => void;

const CONTROL_WORDS = new Set(['fixed', 'increment', 'decrement', 'randomize', 'increment-wrap']);

/** A saved "control after generate" word; the frontend matches them in any case. */
export const isControlValue = (value: unknown): boolean => typeof value === 'string' && CONTROL_WORDS.has(value.toLowerCase());

/** How many saved values the widgets from `definitions[from]` on take when every control value is present. */
function expectedFrom(definitions: readonly InputDefinition[], from: number): number {
  let count = 0;
  for (let i = from; i < definitions.length; i++) if (definitions[i]!.widget) count += definitions[i]!.control ? 2 : 1;
  return count;
}

/** The definition of the next widget after `definitions[from]`. */
function nextWidget(definitions: readonly InputDefinition[], from: number): InputDefinition | undefined {
  for (let i = from + 1; i < definitions.length; i++) if (definitions[i]!.widget) return definitions[i];
  return undefined;
}

/**
 * Whether `values[i]`, right after the value of `definitions[di]`, is that widget's control value. Frontends of
 * 2023 saved the seed's "random seed after every generation" toggle as a boolean where later ones save a word;
 * the frontend reads either into the control widget. A boolean is taken for one unless the next widget is itself
 * a boolean and the count shows no control value was saved.
 */
function isSavedControl(values: readonly unknown[], i: number, definitions: readonly InputDefinition[], di: number): boolean {
  const value = values[i];
  if (isControlValue(value)) return true;
  if (typeof value !== 'boolean' || definitions[di]!.type !== 'INT') return false;
  return nextWidget(definitions, di)?.type !== 'BOOLEAN' || values.length - i - 1 >= expectedFrom(definitions, di + 1);
}

/**
 * Maps `widgets_values` to input names (protocol reference 3.3): one value per widget in input order;
 * a control value (a word, or an older frontend's boolean after a seed) after seeds and `control_after_generate`
 * widgets when one is saved (older workflows lack it); an old frontend's filter-list string after a combo's
 * control value; `null` holes left by non-serialised DOM widgets, skipped while there are more values than
 * widgets; upload-button values, which come last and are never sent. Object-form `widgets_values` is keyed by
 * widget name. Widgets the values do not reach are left to the caller (a node saved before it gained them).
 * Returns true when values are left over that no widget takes.
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
  let uploads = 0;
  let i = 0;
  for (let di = 0; di < definitions.length; di++) {
    const w = definitions[di]!;
    if (w.upload) uploads = 1;
    if (!w.widget || i >= values.length) continue;
    while (i < values.length && values[i] === null && values.length - i > expectedFrom(definitions, di)) i++;
    if (i >= values.length) continue;
    visit(w.name, values[i], i);
    i++;
    if (!w.control || i >= values.length || !isSavedControl(values, i, definitions, di)) continue;
    i++;
    const surplus = values.length - i - expectedFrom(definitions, di + 1);
    if (w.type === 'COMBO' && surplus > 0 && typeof values[i] === 'string') i++;
  }
  return values.length - i > uploads;
}

/**
 * The value a widget has on a node created from its definition, as the frontend makes it: the definition's
 * `default`, else 0 for numbers, "" for text, false for a toggle and the first choice of a combo. Undefined
 * when there is none (an empty combo, an extension widget without a default).
 */
export function widgetDefault(d: InputDefinition): unknown {
  const given = d.options['default'];
  if (given !== undefined && given !== null) return given;
  switch (d.type) {
    case 'INT':
    case 'FLOAT':
      return 0;
    case 'STRING':
      return '';
    case 'BOOLEAN':
      return false;
    case 'COMBO':
      return d.choices?.[0];
    default:
      return undefined;
  }
}
