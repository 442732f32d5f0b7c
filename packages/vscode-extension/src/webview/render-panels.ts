import { fieldValueProblem } from '../protocol/field-limits.js';
import type { ModelView, ParameterField, ProblemView, ProgressView } from '../protocol/messages.js';
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
      const raw = input.value.trim();
      const value = f.kind === 'integer' || f.kind === 'number' ? (raw === '' ? Number.NaN : Number(raw)) : input.value;
      // Refused here, before the file changes: the node definition's limits and the field's type.
      const problem = fieldValueProblem(f, value);
      input.setCustomValidity(problem ?? '');
      input.title = problem ?? '';
      if (problem) return void input.reportValidity();
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
  const limits = {
    ...(f.min !== undefined ? { min: String(f.min) } : {}),
    ...(f.max !== undefined ? { max: String(f.max) } : {}),
    step: f.kind === 'integer' ? String(f.step ?? 1) : 'any',
  };
  const input = el('input', { id, name: f.name, type: f.kind === 'text' ? 'text' : 'number', ...(f.kind === 'text' ? {} : limits) });
  input.value = String(f.value);
  return input;
}

/** The workflow's problems; a click reveals the node in the graph, "Show in text" opens the file at the characters. */
export function renderProblems(problems: ProblemView[], reveal: (p: ProblemView) => void, showInText: (p: ProblemView) => void): HTMLElement[] {
  return problems.map((p) => {
    const li = el('li', { class: `problem ${p.severity}`, ...(p.nodeId ? { 'data-node': p.nodeId, title: 'Show the node in the graph' } : {}) });
    li.append(el('span', { class: 'problem-message' }, p.message));
    const text = el('button', { type: 'button', class: 'link' }, 'Show in text');
    text.addEventListener('click', (e) => {
      e.stopPropagation();
      showInText(p);
    });
    li.append(' ', text);
    li.addEventListener('click', () => reveal(p));
    return li;
  });
}

/** The models and where each stands; a missing one can be downloaded to `server` (the selected one). */
export function renderModels(models: ModelView[], note: string | undefined, server: string | undefined, download: (name: string) => void): HTMLElement[] {
  const rows = models.map((m) => {
    const li = el('li', { class: m.state });
    li.append(el('span', { class: 'model-name' }, m.name), el('span', { class: 'folder' }, ` models/${m.folder}`));
    li.append(el('span', { class: 'state' }, m.state === 'unchecked' ? '' : ` ${m.state}`));
    if (m.state !== 'available' && m.downloadUrl) li.append(el('a', { href: m.downloadUrl, class: 'download' }, ' download'));
    if (m.state === 'missing' && server) {
      const button = el('button', { type: 'button', class: 'link download-to' }, `Download to ${server}`);
      button.addEventListener('click', () => download(m.name));
      li.append(' ', button);
    }
    return li;
  });
  if (note) rows.push(el('li', { class: 'muted' }, note));
  if (rows.length === 0) rows.push(el('li', { class: 'muted' }, 'This workflow loads no models.'));
  return rows;
}

export function progressText(p: ProgressView): string {
  return `${p.status} ${Math.round(p.percent)}%${p.currentNode ? ` · ${p.currentNode}` : ''}`;
}
