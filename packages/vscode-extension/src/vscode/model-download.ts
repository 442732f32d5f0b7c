import * as vscode from 'vscode';
import type { DownloadInfo, ServerInfo } from '../api/port.js';
import type { Connection } from './connection.js';
import type { ServerSelection } from './server-selection.js';
import type { WorkflowInsight } from './workflow-insight.js';

export const DOWNLOAD_COMMAND = 'comfyVast.downloadModel';

/** "Download to <server>" on each missing-model problem, while a server is selected. */
export class ModelDownloadActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly selection: ServerSelection) {}

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const server = this.selection.selected;
    if (!server) return [];
    return context.diagnostics
      .filter((d) => d.source === 'comfy-vast' && d.code === 'missing-model')
      .flatMap((diagnostic) => {
        const name = modelName(document.getText(diagnostic.range));
        if (!name) return [];
        const action = new vscode.CodeAction(`Download ${name} to ${server.name}`, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
        action.command = { command: DOWNLOAD_COMMAND, title: action.title, arguments: [document.uri, name] };
        return [action];
      });
  }
}

/** The model a diagnostic's characters name: a JSON string. */
function modelName(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' && value ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Downloads a model the workflow needs onto the selected server, from the link the analysis knows (else one the user
 * gives), with the download's progress in a cancellable notification; the problems are checked again once it lands.
 */
export async function downloadModel(
  connection: Connection,
  selection: ServerSelection,
  insight: WorkflowInsight,
  document: vscode.TextDocument,
  name: string,
): Promise<DownloadInfo | undefined> {
  const server = selection.selected;
  if (!server) return undefined;
  try {
    const inspection = await insight.inspect(document);
    const model = [...(inspection?.analysis?.missingModels ?? []), ...(inspection?.localModels ?? [])].find((m) => m.name === name);
    const folder = model?.folder;
    if (!folder) {
      void vscode.window.showErrorMessage(`Comfy-Vast: the folder for "${name}" is not known; download it on the server by hand.`);
      return undefined;
    }
    const url =
      model.downloadUrl ??
      (await vscode.window.showInputBox({
        title: `Comfy-Vast: download ${name}`,
        prompt: `No download link is known for ${name}: paste one (Hugging Face, Civitai or any https address).`,
        ignoreFocusOut: true,
        validateInput: (v) => (/^https:\/\/\S+$/.test(v.trim()) ? undefined : 'An https:// address'),
      }))?.trim();
    if (!url) return undefined;
    const api = await connection.api();
    const started = await api.downloadModel(server.id, { url, folder, filename: name });
    const done = await follow(api, server, name, started.downloadId);
    if (done.status === 'completed') {
      insight.reset();
      void vscode.window.showInformationMessage(`Comfy-Vast: ${name} is on ${server.name} (models/${folder}).`);
    } else if (done.status === 'failed') {
      void vscode.window.showErrorMessage(`Comfy-Vast: the download of ${name} failed${done.error ? `: ${done.error}` : ''}.`);
    }
    return done;
  } catch (error) {
    void connection.report(error, `Comfy-Vast: could not download ${name}`, server);
    return undefined;
  }
}

/** Follows a download in a notification until it ends; the notification's Cancel cancels it on the server. */
function follow(api: Awaited<ReturnType<Connection['api']>>, server: ServerInfo, name: string, downloadId: number): Promise<DownloadInfo> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Comfy-Vast: downloading ${name} to ${server.name}`, cancellable: true }, (progress, token) => {
      let shown = 0;
      return new Promise<DownloadInfo>((resolve, reject) => {
        let stop: (() => void) | undefined;
        let ended = false;
        token.onCancellationRequested(() => void api.cancelDownload(downloadId).catch(reject));
        api
          .watchDownload(downloadId, (d) => {
            if (ended) return;
            const percent = Math.max(shown, d.progress);
            progress.report({ increment: percent - shown, message: [d.status === 'queued' ? 'queued' : `${percent}%`, d.downloadSpeed, d.estimatedTimeRemaining].filter(Boolean).join(' · ') });
            shown = percent;
            if (d.status === 'completed' || d.status === 'failed' || d.status === 'cancelled') {
              ended = true;
              stop?.();
              resolve(d);
            }
          })
          .then((unsubscribe) => (ended ? unsubscribe() : (stop = unsubscribe)), reject);
      });
    }),
  );
}
