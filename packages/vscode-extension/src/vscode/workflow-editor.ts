import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { webviewHtml } from '../editor/webview-html.js';
import { workflowName } from '../generate/output-paths.js';
import { nextSeed } from '../generate/seed-control.js';
import { fieldValueProblem } from '../protocol/field-limits.js';
import type { GalleryEntry } from '../generate/gallery.js';
import { FromWebview, ParameterName, ToWebview, type GraphChange, type ModelView, type ParameterField } from '../protocol/messages.js';
import { graphEdits } from '../workflow/graph-edit.js';
import { editorGraph } from '../workflow/graph-model.js';
import { findParameters } from '../workflow/parameters.js';
import { replaceValues } from '../workflow/value-edit.js';
import type { ModelInfo } from '../api/port.js';
import type { DocumentQueue } from './document-queue.js';
import type { GalleryStore } from './gallery-store.js';
import { DOWNLOAD_COMMAND } from './model-download.js';
import type { GenerationRunner, RunUpdate } from './generation-runner.js';
import type { ServerSelection } from './server-selection.js';
import { applyTextEdits } from './text-edits.js';
import type { Inspection, WorkflowInsight } from './workflow-insight.js';

export const EDITOR_VIEW_TYPES = ['comfyVast.workflow', 'comfyVast.workflowJson'] as const;

/**
 * The workflow editor: a webview over the text document, which stays the model (undo, save, diff and
 * "Reopen With… Text Editor" keep working). Form edits become minimal WorkspaceEdits.
 */
export class WorkflowEditorProvider implements vscode.CustomTextEditorProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly insight: WorkflowInsight,
    private readonly runner: GenerationRunner,
    private readonly selection: ServerSelection,
    /** Shared with the runner: messages are handled one after another, and Generate reads after the edits before it. */
    private readonly queue: DocumentQueue,
    private readonly gallery: GalleryStore,
    /** A number in [0, 1) for the seed's Randomize button. */
    private readonly random: () => number = Math.random,
  ) {}

  async resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): Promise<void> {
    const webview = panel.webview;
    const roots = [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media'), ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri)];
    webview.options = { enableScripts: true, localResourceRoots: roots };
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'workflow-editor.css')).toString(),
      graphStyleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.css')).toString(),
      title: workflowName(document.fileName),
    });

    const post = (message: ToWebview) => void webview.postMessage(ToWebview.parse(message));
    const postRun = (update: RunUpdate) => post(runMessage(update, webview));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = async () => {
      const inspection = await this.insight.inspect(document);
      if (!inspection) return post({ type: 'invalid', message: 'This file is not a ComfyUI workflow (or not valid JSON right now). Fix it in the text editor.' });
      post(workflowMessage(document, inspection));
      post(modelsMessage(inspection));
    };
    const refreshSoon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), 150);
    };

    const postQueue = () => post({ type: 'queue', runs: this.runner.queued(document.uri) });
    const postGallery = async () => {
      const entries = await this.gallery.entries(document.uri);
      post({ type: 'gallery', entries: entries.map((e) => galleryView(e, (name) => webview.asWebviewUri(this.gallery.image(document.uri, name)))) });
    };
    const same = (uri: vscode.Uri) => uri.toString() === document.uri.toString();
    const subscriptions = [
      webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = FromWebview.safeParse(raw);
        if (!parsed.success) return;
        // In the order they were sent: an edit lands before the Generate clicked after it reads the file.
        this.queue
          .run(document.uri, () => this.handle(parsed.data, document, panel, { refresh, postRun, postQueue, postGallery }))
          .catch((error: unknown) => void vscode.window.showErrorMessage(`Comfy-Vast: ${(error as Error).message}`));
      }),
      vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.toString() === document.uri.toString() && e.contentChanges.length > 0 && refreshSoon()),
      this.selection.onDidChange(() => refreshSoon()),
      this.runner.onDidUpdate((update: RunUpdate) => same(update.document) && postRun(update)),
      this.runner.onDidChangeQueue((uri) => same(uri) && postQueue()),
      this.gallery.onDidChange((uri) => same(uri) && void postGallery()),
    ];
    panel.onDidDispose(() => {
      clearTimeout(timer);
      for (const s of subscriptions) s.dispose();
    });
  }

  private async handle(message: FromWebview, document: vscode.TextDocument, panel: vscode.WebviewPanel, page: Page): Promise<void> {
    const { refresh } = page;
    switch (message.type) {
      case 'ready': {
        await refresh();
        // A page reloaded (a tab switched back to) shows the last run, the queue and the gallery again.
        const latest = this.runner.latest(document.uri);
        if (latest) page.postRun(latest);
        page.postQueue();
        await page.postGallery();
        return;
      }
      case 'setParameter':
        return this.setParameters(document, { [message.name]: message.value }, refresh);
      case 'editGraph':
        return this.editGraph(document, message.changes, refresh);
      case 'randomizeSeed':
        return this.setParameters(document, { seed: (field) => nextSeed(Number(field.value), 'randomize', field, this.random) }, refresh);
      case 'generate':
        // Not awaited: the run lasts long, and Cancel and more runs must get through meanwhile.
        void this.runner.generate(document);
        return;
      case 'cancel':
        return this.runner.cancel(document.uri, message.runId);
      case 'restore': {
        const entry = await this.entry(document, message.entryId);
        if (!entry) return;
        const values: Record<string, string | number> = { ...entry.parameters, prompt: entry.prompt, ...(entry.negativePrompt !== undefined ? { negativePrompt: entry.negativePrompt } : {}), ...(entry.seed !== undefined ? { seed: entry.seed } : {}) };
        return this.setParameters(document, values, refresh);
      }
      case 'downloadModel':
        // Not awaited: a download lasts long, and the editor's other messages must get through meanwhile.
        void vscode.commands.executeCommand(DOWNLOAD_COMMAND, document.uri, message.name);
        return;
      case 'openImage':
      case 'revealImage': {
        const entry = await this.entry(document, message.entryId);
        const name = entry?.images[message.index];
        if (!name) return;
        const image = this.gallery.image(document.uri, name);
        await vscode.commands.executeCommand(message.type === 'openImage' ? 'vscode.open' : 'revealInExplorer', image);
        return;
      }
      case 'openText': {
        if (!message.span) {
          await vscode.commands.executeCommand('vscode.openWith', document.uri, 'default');
          return;
        }
        const end = Math.min(document.getText().length, message.span.offset + message.span.length);
        const selection = new vscode.Range(document.positionAt(Math.min(message.span.offset, end)), document.positionAt(end));
        await vscode.window.showTextDocument(document, { selection, viewColumn: panel.viewColumn ?? vscode.ViewColumn.Active });
      }
    }
  }

  private async entry(document: vscode.TextDocument, id: string): Promise<GalleryEntry | undefined> {
    return (await this.gallery.entries(document.uri)).find((e) => e.id === id);
  }

  /**
   * Replaces just the values' characters in the document, as one undoable edit: the rest of the file is untouched.
   * A value outside its field's limits is refused, and an edit VS Code refuses is reported; either way the form
   * shows the file again. Names the workflow has no field for are passed over.
   */
  private async setParameters(
    document: vscode.TextDocument,
    values: Record<string, string | number | ((field: ParameterField) => number)>,
    refresh: () => Promise<void>,
  ): Promise<void> {
    const read = this.insight.read(document);
    if (!read) return;
    const found = findParameters(read.json, read.doc, read.objectInfo);
    const problems: string[] = [];
    const labels: string[] = [];
    const edits = Object.entries(values).flatMap(([name, value]) => {
      const parameter = ParameterName.safeParse(name).success ? found.find((p) => p.field.name === name) : undefined;
      if (!parameter) return [];
      labels.push(parameter.field.label);
      const wanted = typeof value === 'function' ? value(parameter.field) : value;
      const problem = fieldValueProblem(parameter.field, wanted);
      if (problem) problems.push(problem);
      return problem ? [] : replaceValues(parameter.targets, wanted);
    });
    const applied = problems.length === 0 && (await applyTextEdits(document, edits));
    if (applied) return;
    void vscode.window.showErrorMessage(`Comfy-Vast: ${problems.length > 0 ? problems.join(' ') : `${labels.join(', ')} could not be written into the file (VS Code refused the edit); the form shows the file again.`}`);
    await refresh();
  }

  /** The graph editor's changes as one undoable edit of just their values; what cannot be written is said, and the page shows the file again. */
  private async editGraph(document: vscode.TextDocument, changes: GraphChange[], refresh: () => Promise<void>): Promise<void> {
    const read = this.insight.read(document);
    const { edits, refused } = read ? graphEdits(document.getText(), changes, read.objectInfo) : { edits: [], refused: ['The file is not a workflow right now.'] };
    const applied = await applyTextEdits(document, edits);
    if (applied && refused.length === 0) return;
    const reasons = [...refused, ...(applied ? [] : ['VS Code refused the edit.'])];
    if (reasons.length > 0) void vscode.window.showErrorMessage(`Comfy-Vast: ${reasons.join(' ')} The graph shows the file again.`);
    await refresh();
  }
}

/** What the page is sent, by kind. */
interface Page {
  refresh: () => Promise<void>;
  postRun: (update: RunUpdate) => void;
  postQueue: () => void;
  postGallery: () => Promise<void>;
}

function galleryView(entry: GalleryEntry, src: (name: string) => vscode.Uri): Extract<ToWebview, { type: 'gallery' }>['entries'][number] {
  const { id, time, seed, prompt, negativePrompt, parameters, cost } = entry;
  return {
    id,
    time,
    server: entry.server.name,
    ...(seed !== undefined ? { seed } : {}),
    prompt,
    ...(negativePrompt !== undefined ? { negativePrompt } : {}),
    parameters,
    ...(cost !== undefined ? { cost } : {}),
    images: entry.images.map((name) => ({ src: src(name).toString(), label: name })),
  };
}

/** A run's update as the page shows it; saved images by their webview URIs. */
function runMessage(update: RunUpdate, webview: vscode.Webview): ToWebview {
  if (update.kind === 'started') return { type: 'started', server: update.server };
  if (update.kind === 'progress') return { type: 'progress', progress: update.progress };
  return {
    type: 'result',
    images: update.images.map((uri) => ({ src: webview.asWebviewUri(uri).toString(), label: vscode.workspace.asRelativePath(uri) })),
    ...(update.error ? { error: update.error } : {}),
  };
}

function workflowMessage(document: vscode.TextDocument, inspection: Inspection): ToWebview {
  return {
    type: 'workflow',
    name: workflowName(document.fileName),
    format: inspection.doc.format,
    ...editorGraph(inspection.json, inspection.doc, inspection.objectInfo),
    parameters: findParameters(inspection.json, inspection.doc, inspection.objectInfo).map((p) => p.field),
    problems: inspection.problems.map((p) => ({ message: p.message, severity: p.severity, span: p.span, ...(p.nodeId ? { nodeId: p.nodeId } : {}) })),
  };
}

function modelsMessage(inspection: Inspection): ToWebview {
  const analysis = inspection.analysis;
  const view = (state: ModelView['state']) => (m: Pick<ModelInfo, 'name' | 'folder' | 'type' | 'downloadUrl'>): ModelView => ({
    name: m.name,
    folder: m.folder ?? m.type ?? 'unknown',
    state,
    ...(m.downloadUrl?.startsWith('https://') ? { downloadUrl: m.downloadUrl } : {}),
  });
  const missingNames = new Set(analysis?.missingModels.map((m) => m.name));
  // Without a server, core's offline analysis still names the models and their folders.
  const models = analysis
    ? [...analysis.requiredModels.filter((m) => !missingNames.has(m.name)).map(view('available')), ...analysis.missingModels.map(view('missing'))]
    : (inspection.localModels ?? []).map(view('unchecked'));
  const note = inspection.serverNote ?? (inspection.server ? `Checked on ${inspection.server.name}.` : undefined);
  return { type: 'models', models, ...(note ? { note } : {}), ...(analysis && inspection.server ? { server: inspection.server.name } : {}) };
}
