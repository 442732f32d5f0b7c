import '../no-eval.js';
import { z } from 'zod';
import { FromWebview, ToWebview } from '../protocol/messages.js';
import { byId, el } from './dom.js';
import { GraphEditor, type GraphViewState } from './graph-editor.js';
import { renderEnlarged, renderGallery, renderQueue } from './render-gallery.js';
import { renderInspector } from './render-inspector.js';
import { progressText, renderForm, renderModels, renderProblems } from './render-panels.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

/**
 * What the page keeps while hidden (VS Code drops a hidden webview): the last workflow, models and run
 * messages, shown again at once when the tab comes back.
 */
const SavedState = z.object({
  workflow: ToWebview.optional(),
  models: ToWebview.optional(),
  queue: ToWebview.optional(),
  gallery: ToWebview.optional(),
  run: z.array(ToWebview).default([]),
  view: z.object({ scale: z.number().positive(), offset: z.tuple([z.number(), z.number()]) }).optional(),
});
type SavedState = z.infer<typeof SavedState>;
const saved: SavedState = { run: [] };
let viewTimer: ReturnType<typeof setTimeout> | undefined;

const graph = new GraphEditor(byId('graph'), {
  onChanges: (changes) => post({ type: 'editGraph', changes }),
  onSelect: (node) => {
    const inspector = byId('inspector');
    // The panel is drawn again after each reload of the file: the field the user is in keeps the focus.
    const focused = inspector.contains(document.activeElement) ? document.activeElement?.id : undefined;
    inspector.replaceChildren(
      ...renderInspector(
        node,
        (index, value) => node && graph.setWidget(node, index, value),
        () => node && graph.openSubgraph(node),
      ),
    );
    if (focused) document.getElementById(focused)?.focus();
  },
  onView: (view: GraphViewState) => {
    saved.view = view;
    // Pan and zoom come many times a second; the kept state is written once they settle.
    clearTimeout(viewTimer);
    viewTimer = setTimeout(() => vscode.setState(saved), 200);
  },
});

function post(message: FromWebview): void {
  vscode.postMessage(FromWebview.parse(message));
}

function remember(message: ToWebview): void {
  if (message.type === 'workflow') saved.workflow = message;
  else if (message.type === 'models') saved.models = message;
  else if (message.type === 'queue') saved.queue = message;
  else if (message.type === 'gallery') saved.gallery = message;
  else if (message.type === 'started') saved.run = [message];
  // The latest progress replaces the one before it; a result ends the run.
  else if (message.type === 'progress' || message.type === 'result') saved.run = [...saved.run.filter((m) => m.type === 'started'), message];
  else return;
  vscode.setState(saved);
}

type GalleryEntries = Extract<ToWebview, { type: 'gallery' }>['entries'];
let galleryEntries: GalleryEntries = [];
let comparing = new Set<string>();

function showOverlay(entries: GalleryEntries, index = 0): void {
  byId('overlay-body').replaceChildren(...renderEnlarged(entries, index));
  byId('overlay').classList.toggle('pair', entries.length === 2);
  byId('overlay').hidden = false;
  byId('overlay-close').focus();
}

function showGallery(): void {
  // Ticks of entries no longer there are dropped; two ticked entries can be compared.
  comparing = new Set([...comparing].filter((id) => galleryEntries.some((e) => e.id === id)));
  byId('compare').hidden = comparing.size !== 2;
  byId('gallery').replaceChildren(
    ...renderGallery(galleryEntries, comparing, {
      enlarge: (entry, index) => showOverlay([entry], index),
      restore: (entry) => post({ type: 'restore', entryId: entry.id }),
      open: (entry, index) => post({ type: 'openImage', entryId: entry.id, index }),
      reveal: (entry, index) => post({ type: 'revealImage', entryId: entry.id, index }),
      compare: (ids) => {
        // A third tick replaces the oldest one: two are compared.
        comparing = new Set(ids.slice(-2));
        showGallery();
      },
    }),
  );
}

function show(message: ToWebview): void {
  remember(message);
  switch (message.type) {
    case 'workflow': {
      byId('name').textContent = message.name;
      byId('format').textContent = message.format === 'ui' ? 'UI format' : 'API format';
      byId('message').textContent = '';
      byId('problems').replaceChildren(
        ...renderProblems(message.problems, (p) => p.nodeId !== undefined && graph.reveal(p.nodeId), (p) => post({ type: 'openText', span: p.span })),
      );
      byId('form').replaceChildren(...renderForm(message.parameters, (e) => post('randomizeSeed' in e ? { type: 'randomizeSeed' } : { type: 'setParameter', ...e })));
      graph.load(message.graph, message.definitions);
      break;
    }
    case 'queue':
      byId('queue').replaceChildren(...renderQueue(message.runs, (runId) => post({ type: 'cancel', runId })));
      break;
    case 'gallery':
      galleryEntries = message.entries;
      showGallery();
      break;
    case 'invalid':
      byId('message').textContent = message.message;
      break;
    case 'models':
      byId('models').replaceChildren(...renderModels(message.models, message.note, message.server, (name) => post({ type: 'downloadModel', name })));
      break;
    case 'started': {
      // Nothing of the previous run stays on screen.
      byId('run').hidden = false;
      byId('cancel').hidden = false;
      byId('bar-fill').style.width = '0%';
      byId('run-status').textContent = `queued on ${message.server}`;
      const preview = byId<HTMLImageElement>('preview');
      preview.removeAttribute('src');
      preview.hidden = true;
      byId('images').replaceChildren();
      break;
    }
    case 'progress': {
      byId('run').hidden = false;
      byId('cancel').hidden = false;
      byId('bar-fill').style.width = `${message.progress.percent}%`;
      byId('run-status').textContent = progressText(message.progress);
      const { currentNode, currentNodeId, percent } = message.progress;
      graph.setRunning(currentNode ? { type: currentNode, ...(currentNodeId ? { id: currentNodeId } : {}), percent } : undefined);
      const preview = byId<HTMLImageElement>('preview');
      if (message.progress.preview) {
        preview.src = message.progress.preview;
        preview.hidden = false;
      }
      break;
    }
    case 'result': {
      byId('run').hidden = false;
      byId('cancel').hidden = true;
      byId('preview').hidden = true;
      graph.setRunning(undefined);
      if (message.error) byId('run-status').textContent = message.error;
      else byId('bar-fill').style.width = '100%';
      byId('images').replaceChildren(
        ...message.images.map((i) => {
          const figure = el('figure');
          figure.append(el('img', { src: i.src, alt: i.label, class: 'result' }), el('figcaption', {}, i.label));
          return figure;
        }),
      );
      if (!message.error) byId('run-status').textContent = `Done: ${message.images.length} image(s) saved`;
      break;
    }
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  const parsed = ToWebview.safeParse(event.data);
  if (parsed.success) show(parsed.data);
});
byId('generate').addEventListener('click', () => post({ type: 'generate' }));
byId('cancel').addEventListener('click', () => post({ type: 'cancel' }));
byId('open-text').addEventListener('click', () => post({ type: 'openText' }));
byId('compare').addEventListener('click', () => showOverlay(galleryEntries.filter((e) => comparing.has(e.id))));
byId('overlay-close').addEventListener('click', () => (byId('overlay').hidden = true));
document.addEventListener('keydown', (e) => e.key === 'Escape' && (byId('overlay').hidden = true));

// A webview reloaded from the background shows its last state at once, then asks for a fresh one.
const restored = SavedState.safeParse(vscode.getState());
if (restored.success) {
  for (const message of [restored.data.workflow, restored.data.models, restored.data.queue, restored.data.gallery, ...restored.data.run]) if (message) show(message);
  if (restored.data.view) graph.setView(restored.data.view);
}
post({ type: 'ready' });
