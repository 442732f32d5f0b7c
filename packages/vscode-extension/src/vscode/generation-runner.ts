import * as vscode from 'vscode';
import type { ComfyVastApi, GenerationEvent, ServerInfo } from '../api/port.js';
import { generateInput } from '../generate/generate-input.js';
import { imageFileName, outputSegments, workflowName } from '../generate/output-paths.js';
import { ProgressIncrements } from '../generate/progress-math.js';
import type { ProgressView } from '../protocol/messages.js';
import { readWorkflowDocument } from '../workflow/workflow-doc.js';
import type { Connection } from './connection.js';
import type { ServerSelection } from './server-selection.js';

export type RunUpdate =
  | { document: vscode.Uri; kind: 'progress'; progress: ProgressView }
  | { document: vscode.Uri; kind: 'result'; images: vscode.Uri[]; error?: string };

interface Running {
  /** Aborted by the notification's Cancel or the editor's Cancel button. */
  cancel: AbortController;
}

/**
 * Runs a workflow file on the selected server: a cancellable progress notification, progress and previews
 * mirrored to the open editors, the images saved under the output folder and announced.
 */
export class GenerationRunner implements vscode.Disposable {
  readonly #updates = new vscode.EventEmitter<RunUpdate>();
  readonly onDidUpdate = this.#updates.event;
  readonly #finished = new vscode.EventEmitter<ServerInfo>();
  /** Fires after each generation (for the Servers view's recent generations). */
  readonly onDidFinish = this.#finished.event;
  readonly #running = new Map<string, Running>();

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
  ) {}

  isRunning(document: vscode.Uri): boolean {
    return this.#running.has(document.toString());
  }

  cancel(document: vscode.Uri): void {
    this.#running.get(document.toString())?.cancel.abort();
  }

  /** Generates from the document's current text; resolves with the saved image files (empty when it failed). */
  async generate(document: vscode.TextDocument): Promise<vscode.Uri[]> {
    if (this.isRunning(document.uri)) {
      void vscode.window.showInformationMessage('Comfy-Vast: this workflow is already generating.');
      return [];
    }
    const doc = readWorkflowDocument(document.getText());
    if (!doc) {
      void vscode.window.showErrorMessage('Comfy-Vast: this file is not a ComfyUI workflow (or not valid JSON); fix it before generating.');
      return [];
    }
    const request = generateInput(JSON.parse(document.getText()), doc, workflowName(document.fileName));
    const server = await this.selection.require();
    if (!server) return [];
    const running: Running = { cancel: new AbortController() };
    this.#running.set(document.uri.toString(), running);
    try {
      const api = await this.connection.api();
      const name = workflowName(document.fileName);
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Comfy-Vast: generating ${name} on ${server.name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => running.cancel.abort());
          const { generationId } = await api.generate(server.id, request);
          progress.report({ message: 'queued' });
          const done = await this.follow(api, generationId, document.uri, progress, running.cancel.signal);
          if (done.type === 'cancelled') {
            await api.cancel(generationId);
            this.#updates.fire({ document: document.uri, kind: 'result', images: [], error: 'Cancelled' });
            return [];
          }
          if (done.type === 'error') throw Object.assign(new Error(done.details ? `${done.error}: ${done.details}` : done.error), { code: 'GENERATION_FAILED' });
          progress.report({ message: `saving ${done.imageUrls.length} image(s)` });
          const images = await this.save(api, generationId, done.imageUrls, document);
          this.#updates.fire({ document: document.uri, kind: 'result', images });
          void this.announce(images);
          return images;
        },
      );
    } catch (error) {
      this.#updates.fire({ document: document.uri, kind: 'result', images: [], error: (error as Error).message });
      await this.connection.report(error, 'Comfy-Vast: generation failed');
      return [];
    } finally {
      this.#running.delete(document.uri.toString());
      this.#finished.fire(server);
    }
  }

  private follow(
    api: ComfyVastApi,
    generationId: number,
    document: vscode.Uri,
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    cancelled: AbortSignal,
  ): Promise<Exclude<GenerationEvent, { type: 'progress' }> | { type: 'cancelled' }> {
    const increments = new ProgressIncrements();
    return new Promise((resolve, reject) => {
      let stop: (() => void) | undefined;
      let settled = false;
      const finish = (result: Exclude<GenerationEvent, { type: 'progress' }> | { type: 'cancelled' }) => {
        if (settled) return;
        settled = true;
        stop?.();
        resolve(result);
      };
      if (cancelled.aborted) finish({ type: 'cancelled' });
      cancelled.addEventListener('abort', () => finish({ type: 'cancelled' }));
      api
        .watch(generationId, (event) => {
          if (event.type !== 'progress') return finish(event);
          const view: ProgressView = {
            status: event.status,
            percent: Math.min(100, Math.max(0, event.progress)),
            ...(event.currentNode ? { currentNode: event.currentNode } : {}),
            ...(event.previewImage?.startsWith('data:image/') ? { preview: event.previewImage } : {}),
          };
          progress.report({ increment: increments.next(view.percent), message: `${Math.round(view.percent)}%${view.currentNode ? ` · ${view.currentNode}` : ''}` });
          this.#updates.fire({ document, kind: 'progress', progress: view });
        })
        .then((unsubscribe) => (settled ? unsubscribe() : (stop = unsubscribe)), reject);
    });
  }

  private async save(api: ComfyVastApi, generationId: number, urls: string[], document: vscode.TextDocument): Promise<vscode.Uri[]> {
    const root = vscode.workspace.getWorkspaceFolder(document.uri)?.uri ?? vscode.Uri.joinPath(document.uri, '..');
    const setting = vscode.workspace.getConfiguration('comfyVast').get<string>('outputFolder', 'comfy-outputs');
    const folder = vscode.Uri.joinPath(root, ...outputSegments(setting, document.fileName));
    await vscode.workspace.fs.createDirectory(folder);
    const saved: vscode.Uri[] = [];
    for (const [index, url] of urls.entries()) {
      const file = vscode.Uri.joinPath(folder, imageFileName(generationId, index, url));
      await vscode.workspace.fs.writeFile(file, await api.image(url));
      saved.push(file);
    }
    return saved;
  }

  private async announce(images: vscode.Uri[]): Promise<void> {
    if (images.length === 0) return;
    const folder = vscode.workspace.asRelativePath(vscode.Uri.joinPath(images[0]!, '..'));
    const choice = await vscode.window.showInformationMessage(`Comfy-Vast: saved ${images.length} image(s) to ${folder}.`, 'Open Image');
    if (choice) await vscode.commands.executeCommand('vscode.open', images[0]);
  }

  dispose(): void {
    for (const r of this.#running.values()) r.cancel.abort();
    this.#updates.dispose();
    this.#finished.dispose();
  }
}
