import { randomBytes, randomInt } from 'node:crypto';
import * as vscode from 'vscode';
import { webviewHtml } from '../editor/webview-html.js';
import { workflowName } from '../generate/output-paths.js';
import { FromWebview, ToWebview, type ModelView } from '../protocol/messages.js';
import { graphModel } from '../workflow/graph-model.js';
import { findParameters } from '../workflow/parameters.js';
import { replaceValues } from '../workflow/value-edit.js';
import type { ModelInfo } from '../api/port.js';
import type { GenerationRunner, RunUpdate } from './generation-runner.js';
import type { ServerSelection } from './server-selection.js';
import type { Inspection, WorkflowInsight } from './workflow-insight.js';

export const EDITOR_VIEW_TYPES = ['comfyVast.workflow', 'comfyVast.workflowJson'] as const;
/** ComfyUI's seed widget takes up to 2^64−1; a random value below 2^48 (randomInt's limit) is plenty and stays exact in JSON. */
const SEED_LIMIT = 2 ** 48 - 1;

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
      title: workflowName(document.fileName),
    });

    const post = (message: ToWebview) => void webview.postMessage(ToWebview.parse(message));
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

    const subscriptions = [
      webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = FromWebview.safeParse(raw);
        if (!parsed.success) return;
        this.handle(parsed.data, document, refresh).catch((error: unknown) => void vscode.window.showErrorMessage(`Comfy-Vast: ${(error as Error).message}`));
      }),
      vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.toString() === document.uri.toString() && e.contentChanges.length > 0 && refreshSoon()),
      this.selection.onDidChange(() => refreshSoon()),
      this.runner.onDidUpdate((update: RunUpdate) => {
        if (update.document.toString() !== document.uri.toString()) return;
        if (update.kind === 'progress') return post({ type: 'progress', progress: update.progress });
        post({
          type: 'result',
          images: update.images.map((uri) => ({ src: webview.asWebviewUri(uri).toString(), label: vscode.workspace.asRelativePath(uri) })),
          ...(update.error ? { error: update.error } : {}),
        });
      }),
    ];
    panel.onDidDispose(() => {
      clearTimeout(timer);
      for (const s of subscriptions) s.dispose();
    });
  }

  private async handle(message: FromWebview, document: vscode.TextDocument, refresh: () => Promise<void>): Promise<void> {
    switch (message.type) {
      case 'ready':
        return refresh();
      case 'setParameter':
        return this.setParameter(document, message.name, message.value);
      case 'randomizeSeed':
        return this.setParameter(document, 'seed', randomInt(SEED_LIMIT));
      case 'generate':
        await this.runner.generate(document);
        return;
      case 'cancel':
        return this.runner.cancel(document.uri);
      case 'openText':
        await vscode.commands.executeCommand('vscode.openWith', document.uri, 'default');
    }
  }

  /** Replaces just the value's characters in the document: the rest of the file is untouched. */
  private async setParameter(document: vscode.TextDocument, name: string, value: string | number): Promise<void> {
    const inspection = await this.insight.inspect(document);
    const parameter = inspection && findParameters(inspection.json, inspection.doc, inspection.objectInfo).find((p) => p.field.name === name);
    const edits = parameter ? replaceValues(parameter.targets, value) : [];
    if (edits.length === 0) return;
    const workspaceEdit = new vscode.WorkspaceEdit();
    for (const edit of edits) {
      workspaceEdit.replace(document.uri, new vscode.Range(document.positionAt(edit.offset), document.positionAt(edit.offset + edit.length)), edit.newText);
    }
    await vscode.workspace.applyEdit(workspaceEdit);
  }
}

function workflowMessage(document: vscode.TextDocument, inspection: Inspection): ToWebview {
  return {
    type: 'workflow',
    name: workflowName(document.fileName),
    format: inspection.doc.format,
    graph: graphModel(inspection.doc),
    parameters: findParameters(inspection.json, inspection.doc, inspection.objectInfo).map((p) => p.field),
    problems: inspection.problems.map((p) => p.message),
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
  return { type: 'models', models, ...(note ? { note } : {}) };
}
