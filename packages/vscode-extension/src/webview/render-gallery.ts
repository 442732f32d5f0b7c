import type { GalleryEntryView, QueuedRunView } from '../protocol/messages.js';
import { el } from './dom.js';

export interface GalleryActions {
  enlarge(entry: GalleryEntryView, index: number): void;
  restore(entry: GalleryEntryView): void;
  open(entry: GalleryEntryView, index: number): void;
  reveal(entry: GalleryEntryView, index: number): void;
  /** The entries ticked for comparison changed. */
  compare(ids: string[]): void;
}

/** The runs waiting or running, each with its own Cancel. */
export function renderQueue(runs: QueuedRunView[], cancel: (id: number) => void): HTMLElement[] {
  if (runs.length === 0) return [el('li', { class: 'muted' }, 'Nothing queued. Generate adds a run with the values as they are now.')];
  return runs.map((run) => {
    const li = el('li', { class: `run ${run.state}`, 'data-run': String(run.id) });
    li.append(el('span', { class: 'state' }, run.state === 'running' ? 'running' : 'queued'), ' ', el('span', {}, `${run.summary} · ${run.server}`), ' ');
    const button = el('button', { type: 'button', class: 'secondary cancel-run' }, 'Cancel');
    button.addEventListener('click', () => cancel(run.id));
    li.append(button);
    return li;
  });
}

/** When, which seed, where and for how much: an entry's caption. */
export function entryCaption(entry: GalleryEntryView): string {
  const time = new Date(entry.time).toLocaleString();
  return [time, entry.seed !== undefined ? `seed ${entry.seed}` : undefined, entry.server, entry.cost !== undefined ? `$${entry.cost.toFixed(4)}` : undefined].filter(Boolean).join(' · ');
}

/** The values an entry was made with, as label/value rows. */
export function entryValues(entry: GalleryEntryView): [string, string][] {
  return [
    ['prompt', entry.prompt],
    ...(entry.negativePrompt !== undefined ? [['negative prompt', entry.negativePrompt] as [string, string]] : []),
    ...(entry.seed !== undefined ? [['seed', String(entry.seed)] as [string, string]] : []),
    ...Object.entries(entry.parameters).map(([k, v]): [string, string] => [k, String(v)]),
  ];
}

/** Every finished run of the file, newest first: the image, its caption and what can be done with it. */
export function renderGallery(entries: GalleryEntryView[], selected: ReadonlySet<string>, actions: GalleryActions): HTMLElement[] {
  if (entries.length === 0) return [el('p', { class: 'muted' }, 'The images of this workflow’s runs appear here.')];
  return entries.map((entry) => {
    const card = el('figure', { class: 'card', 'data-entry': entry.id });
    const image = entry.images[0]!;
    const img = el('img', { src: image.src, alt: image.label, title: 'Enlarge', class: 'thumb' });
    img.addEventListener('click', () => actions.enlarge(entry, 0));
    const caption = el('figcaption', {}, entryCaption(entry));
    const tick = el('input', { type: 'checkbox', class: 'compare-tick', title: 'Compare with another' });
    tick.checked = selected.has(entry.id);
    tick.addEventListener('change', () => {
      const ids = new Set(selected);
      if (tick.checked) ids.add(entry.id);
      else ids.delete(entry.id);
      actions.compare([...ids]);
    });
    const label = el('label', { class: 'compare' });
    label.append(tick, ' compare');
    const buttons = el('div', { class: 'card-actions' });
    for (const [text, cls, act] of [
      ['Restore these parameters', 'restore', () => actions.restore(entry)],
      ['Open image', 'open', () => actions.open(entry, 0)],
      ['Reveal in Explorer', 'reveal', () => actions.reveal(entry, 0)],
    ] as const) {
      const button = el('button', { type: 'button', class: `link ${cls}` }, text);
      button.addEventListener('click', act);
      buttons.append(button);
    }
    card.append(img, caption, label, buttons);
    return card;
  });
}

/** One or two entries large, side by side, with their values; a value that differs between the two is marked. */
export function renderEnlarged(entries: GalleryEntryView[], index = 0): HTMLElement[] {
  const values = entries.map((e) => new Map(entryValues(e)));
  return entries.map((entry, i) => {
    const column = el('div', { class: 'enlarged' });
    const image = entry.images[Math.min(index, entry.images.length - 1)]!;
    column.append(el('img', { src: image.src, alt: image.label }), el('p', { class: 'muted' }, entryCaption(entry)));
    const table = el('dl', {});
    for (const [key, value] of values[i]!) {
      const differs = values.length === 2 && values[1 - i]!.get(key) !== value;
      table.append(el('dt', {}, key), el('dd', differs ? { class: 'differs' } : {}, value));
    }
    column.append(table);
    return column;
  });
}
