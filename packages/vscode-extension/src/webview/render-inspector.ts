import type { LGraphNode } from '@comfyorg/litegraph';
import { el } from './dom.js';

/**
 * The selected node's widgets as form controls beside the graph: long prompts are easier to edit here than in
 * the canvas's one-line prompt. A change goes through the node's widget, as a click on the canvas would.
 */
export function renderInspector(
  node: LGraphNode | undefined,
  onChange: (index: number, value: string | number | boolean) => void,
  onOpen: () => void,
): HTMLElement[] {
  if (!node) return [el('p', { class: 'muted' }, 'Select a node to edit its values here, or on the node itself.')];
  const heading = el('h3', {}, `${node.title} #${node.id}`);
  const extras: HTMLElement[] = [];
  if (node.isSubgraphNode()) {
    const open = el('button', { type: 'button', id: 'open-subgraph', class: 'secondary' }, 'Open subgraph');
    open.addEventListener('click', onOpen);
    extras.push(open);
  }
  const widgets = (node.widgets ?? []).flatMap((widget, index) => {
    if (widget.type === 'button') return [];
    const id = `widget-${index}`;
    const row = el('div', { class: 'field' });
    row.append(el('label', { for: id }, widget.name));
    const value = widget.value as unknown;
    const options = widget.options as { values?: unknown; min?: number; max?: number; step2?: number };
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    if (widget.type === 'combo' && Array.isArray(options.values)) {
      input = el('select', { id, 'data-widget': widget.name });
      for (const option of options.values) input.append(el('option', { value: String(option) }, String(option)));
      input.value = String(value);
    } else if (typeof value === 'boolean') {
      input = el('input', { id, type: 'checkbox', 'data-widget': widget.name });
      input.checked = value;
    } else if (typeof value === 'number') {
      input = el('input', {
        id,
        type: 'number',
        'data-widget': widget.name,
        step: String(options.step2 ?? 'any'),
        ...(options.min !== undefined ? { min: String(options.min) } : {}),
        ...(options.max !== undefined ? { max: String(options.max) } : {}),
      });
      input.value = String(value);
    } else {
      input = el('textarea', { id, rows: '3', 'data-widget': widget.name });
      input.value = String(value ?? '');
    }
    input.addEventListener('change', () => {
      const raw = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value;
      const next = typeof value === 'number' ? Number(raw) : raw;
      if (typeof next === 'number' && (!Number.isFinite(next) || !input.checkValidity())) return void input.reportValidity();
      onChange(index, next);
    });
    row.append(input);
    return [row];
  });
  return [heading, ...extras, ...(widgets.length > 0 ? widgets : [el('p', { class: 'muted' }, 'This node has no values to edit.')])];
}
