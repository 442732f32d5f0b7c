import '../no-eval.js';
import { FromWebview, ToWebview } from '../protocol/messages.js';
import { byId, el } from './dom.js';
import { renderGraph } from './render-graph.js';
import { progressText, renderForm, renderModels } from './render-panels.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

function post(message: FromWebview): void {
  vscode.postMessage(FromWebview.parse(message));
}

function show(message: ToWebview): void {
  switch (message.type) {
    case 'workflow': {
      byId('name').textContent = message.name;
      byId('format').textContent = message.format === 'ui' ? 'UI format' : 'API format';
      byId('message').textContent = '';
      byId('problems').replaceChildren(...message.problems.map((p) => el('li', {}, p)));
      byId('form').replaceChildren(...renderForm(message.parameters, (e) => post('randomizeSeed' in e ? { type: 'randomizeSeed' } : { type: 'setParameter', ...e })));
      byId('graph').replaceChildren(renderGraph(message.graph));
      vscode.setState(message);
      break;
    }
    case 'invalid':
      byId('message').textContent = message.message;
      break;
    case 'models':
      byId('models').replaceChildren(...renderModels(message.models, message.note));
      break;
    case 'progress': {
      byId('run').hidden = false;
      byId('cancel').hidden = false;
      byId('bar-fill').style.width = `${message.progress.percent}%`;
      byId('run-status').textContent = progressText(message.progress);
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

// A webview reloaded from the background shows its last workflow at once, then asks for a fresh one.
const saved = ToWebview.safeParse(vscode.getState());
if (saved.success) show(saved.data);
post({ type: 'ready' });
