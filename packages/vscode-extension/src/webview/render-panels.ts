import type { ModelView, ParameterField, ProgressView } from '../protocol/messages.js';
import { el } from './dom.js';

export type FormEvent = { name: ParameterField['name']; value: string | number } | { randomizeSeed: true };

/** One labelled control per parameter; a change reports the new value, typed as the field is. */
export function renderForm(fields: ParameterField[], onChange: (e: FormEvent) => void): HTMLElement[] {
  if (fields.length === 0) return [el('p', { class: 'muted' }, 'No sampler, prompt or image size found in this workflow.')];
  return fields.map((f) => {
    const row = el('div', { class: 'field' });
    const id = `field-${f.name}`;
    row.append(el('label', { for: id, title: f.node }, f.label));
    const input = control(f, id);
    const emit = () => {
      const raw = input.value;
      const value = f.kind === 'integer' ? Number.parseInt(raw, 10) : f.kind === 'number' ? Number.parseFloat(raw) : raw;
      if (typeof value === 'number' && !Number.isFinite(value)) return;
      onChange({ name: f.name, value });
    };
    input.addEventListener('change', emit);
    row.append(input);
    if (f.name === 'seed') {
      const dice = el('button', { type: 'button', id: 'randomize-seed', class: 'secondary' }, 'Randomize');
      dice.addEventListener('click', () => onChange({ randomizeSeed: true }));
      row.append(dice);
    }
    return row;
  });
}

function control(f: ParameterField, id: string): HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement {
  if (f.kind === 'choice') {
    const select = el('select', { id, name: f.name });
    for (const option of f.options ?? []) select.append(el('option', { value: option }, option));
    select.value = String(f.value);
    return select;
  }
  if (f.name === 'prompt' || f.name === 'negativePrompt') {
    const area = el('textarea', { id, name: f.name, rows: '3' });
    area.value = String(f.value);
    return area;
  }
  const input = el('input', { id, name: f.name, type: f.kind === 'text' ? 'text' : 'number', ...(f.kind === 'number' ? { step: 'any' } : {}) });
  input.value = String(f.value);
  return input;
}

export function renderModels(models: ModelView[], note?: string): HTMLElement[] {
  const rows = models.map((m) => {
    const li = el('li', { class: m.state });
    li.append(el('span', { class: 'model-name' }, m.name), el('span', { class: 'folder' }, ` models/${m.folder}`));
    li.append(el('span', { class: 'state' }, m.state === 'unchecked' ? '' : ` ${m.state}`));
    if (m.state !== 'available' && m.downloadUrl) li.append(el('a', { href: m.downloadUrl, class: 'download' }, ' download'));
    return li;
  });
  if (note) rows.push(el('li', { class: 'muted' }, note));
  if (rows.length === 0) rows.push(el('li', { class: 'muted' }, 'This workflow loads no models.'));
  return rows;
}

export function progressText(p: ProgressView): string {
  return `${p.status} ${Math.round(p.percent)}%${p.currentNode ? ` · ${p.currentNode}` : ''}`;
}
