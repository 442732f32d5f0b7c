import * as vscode from 'vscode';
import { systemClock, type Clock } from '@comfy-vast/core/clock';
import type { ComfyVastApi, GenerateInput, GenerationEvent, ServerInfo } from '../api/port.js';
import { generateInput } from '../generate/generate-input.js';
import { imageFileName, numberedName, outputSegments, workflowName } from '../generate/output-paths.js';
import { ProgressIncrements } from '../generate/progress-math.js';
import { planSeed } from '../generate/seed-control.js';
import type { ProgressView } from '../protocol/messages.js';
import { CORE_OBJECT_INFO } from '../workflow/core-adapter.js';
import { findParameters } from '../workflow/parameters.js';
import { readWorkflowDocument } from '../workflow/workflow-doc.js';
import type { Connection } from './connection.js';
import type { DocumentQueue } from './document-queue.js';
import type { ServerSelection } from './server-selection.js';
import { applyTextEdits } from './text-edits.js';

export type RunUpdate =
  | { document: vscode.Uri; kind: 'started'; server: string }
  | { document: vscode.Uri; kind: 'progress'; progress: ProgressView }
  | { document: vscode.Uri; kind: 'result'; images: vscode.Uri[]; error?: string };

interface Running {
  /** Aborted by the notification's Cancel or the editor's Cancel button. */
  cancel: AbortController;
}

export interface RunnerOptions {
  /** The editor's queue of edits: a generation reads the file after the edits asked for before it. */
  queue: DocumentQueue;
  clock?: Clock;
  /** A number in [0, 1) for randomized seeds. */
  random?: () => number;
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
  /** Each document's latest update, for an editor that opens (or reloads) after it was sent. */
  readonly #latest = new Map<string, RunUpdate>();
  readonly #queue: DocumentQueue;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
    options: RunnerOptions,
  ) {
    this.#queue = options.queue;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  isRunning(document: vscode.Uri): boolean {
    return this.#running.has(document.toString());
  }

  cancel(document: vscode.Uri): void {
    this.#running.get(document.toString())?.cancel.abort();
  }

  /** What the document's last or current run showed (undefined when it never ran). */
  latest(document: vscode.Uri): RunUpdate | undefined {
    return this.#latest.get(document.toString());
  }

  /** Generates from the document's text once pending edits landed; resolves with the saved image files (empty when it failed). */
  async generate(document: vscode.TextDocument): Promise<vscode.Uri[]> {
    const key = document.uri.toString();
    if (this.#running.has(key)) {
      void vscode.window.showInformationMessage('Comfy-Vast: this workflow is already generating.');
      return [];
    }
    if (!readWorkflowDocument(document.getText())) {
      void vscode.window.showErrorMessage('Comfy-Vast: this file is not a ComfyUI workflow (or not valid JSON); fix it before generating.');
      return [];
    }
    const running: Running = { cancel: new AbortController() };
    this.#running.set(key, running);
    let server: ServerInfo | undefined;
    try {
      server = await this.selection.require();
      if (!server) return [];
      const target = server;
      const name = workflowName(document.fileName);
      const api = await this.connection.api();
      const request = await this.#queue.run(document.uri, () => this.prepare(document, name));
      this.#update({ document: document.uri, kind: 'started', server: target.name });
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Comfy-Vast: generating ${name} on ${target.name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => running.cancel.abort());
          const { generationId } = await api.generate(target.id, request);
          progress.report({ message: 'queued' });
          const done = await this.follow(api, generationId, document.uri, progress, running.cancel.signal);
          if (done.type === 'cancelled') {
            await api.cancel(generationId);
            this.#update({ document: document.uri, kind: 'result', images: [], error: 'Cancelled' });
            return [];
          }
          if (done.type === 'error') throw Object.assign(new Error(done.details ? `${done.error}: ${done.details}` : done.error), { code: 'GENERATION_FAILED' });
          progress.report({ message: `saving ${done.imageUrls.length} image(s)` });
          const images = await this.save(api, target, generationId, done.imageUrls, document);
          this.#update({ document: document.uri, kind: 'result', images });
          void this.announce(images);
          return images;
        },
      );
    } catch (error) {
      this.#update({ document: document.uri, kind: 'result', images: [], error: (error as Error).message });
      // Not awaited: the run ends now, not when the user closes the message.
      void this.connection.report(error, 'Comfy-Vast: generation failed');
      return [];
    } finally {
      this.#running.delete(key);
      if (server) this.#finished.fire(server);
    }
  }

  /**
   * The request from the file as it is now, with the seed its `control_after_generate` asks for; that seed is
   * written back into the file (a minimal edit) so that the file says which seed made the latest image.
   */
  private async prepare(document: vscode.TextDocument, name: string): Promise<GenerateInput> {
    const text = document.getText();
    const doc = readWorkflowDocument(text);
    if (!doc) throw new Error('this file is not a ComfyUI workflow (or not valid JSON) any more');
    const json: unknown = JSON.parse(text);
    const seed = planSeed(doc, findParameters(json, doc, CORE_OBJECT_INFO), this.#random);
    if (seed && !(await applyTextEdits(document, seed.edits))) {
      void vscode.window.showWarningMessage(`Comfy-Vast: could not write the seed ${seed.seed} into the file; the generation uses it anyway.`);
    }
    const edited = readWorkflowDocument(document.getText());
    const request = edited ? generateInput(JSON.parse(document.getText()), edited, name) : generateInput(json, doc, name);
    if (seed) request.parameters.seed = seed.seed;
    return request;
  }

  #update(update: RunUpdate): void {
    this.#latest.set(update.document.toString(), update);
    this.#updates.fire(update);
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
          this.#update({ document, kind: 'progress', progress: view });
        })
        .then((unsubscribe) => (settled ? unsubscribe() : (stop = unsubscribe)), reject);
    });
  }

  /** Saves each image under a name no other run takes, and never over an existing file. */
  private async save(api: ComfyVastApi, server: ServerInfo, generationId: number, urls: string[], document: vscode.TextDocument): Promise<vscode.Uri[]> {
    const root = vscode.workspace.getWorkspaceFolder(document.uri)?.uri ?? vscode.Uri.joinPath(document.uri, '..');
    const setting = vscode.workspace.getConfiguration('comfyVast').get<string>('outputFolder', 'comfy-outputs');
    const folder = vscode.Uri.joinPath(root, ...outputSegments(setting, document.fileName));
    await vscode.workspace.fs.createDirectory(folder);
    const time = this.#clock.now();
    const saved: vscode.Uri[] = [];
    for (const [index, url] of urls.entries()) {
      const file = await freeFile(folder, imageFileName({ time, server: server.name, generationId, index, url }));
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

/** The first of `name`, `name-2`, `name-3`… not taken in the folder. */
async function freeFile(folder: vscode.Uri, name: string): Promise<vscode.Uri> {
  for (let n = 1; ; n++) {
    const file = vscode.Uri.joinPath(folder, numberedName(name, n));
    try {
      await vscode.workspace.fs.stat(file);
    } catch {
      return file;
    }
  }
}
