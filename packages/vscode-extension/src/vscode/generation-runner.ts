import * as vscode from 'vscode';
import { systemClock, type Clock } from '@comfy-vast/core/clock';
import type { ComfyVastApi, GenerateInput, GenerationEvent, ServerInfo } from '../api/port.js';
import { generateInput } from '../generate/generate-input.js';
import type { GalleryEntry } from '../generate/gallery.js';
import { imageFileName, numberedName, workflowName } from '../generate/output-paths.js';
import { ProgressIncrements } from '../generate/progress-math.js';
import { planSeed } from '../generate/seed-control.js';
import type { ProgressView } from '../protocol/messages.js';
import { CORE_OBJECT_INFO, type ObjectInfo } from '../workflow/core-adapter.js';
import { findParameters } from '../workflow/parameters.js';
import { readWorkflowDocument } from '../workflow/workflow-doc.js';
import type { Connection } from './connection.js';
import type { DocumentQueue } from './document-queue.js';
import type { GalleryStore } from './gallery-store.js';
import type { GenerationLinks } from './generation-links.js';
import { outputFolder } from './output-folder.js';
import type { ServerSelection } from './server-selection.js';
import { applyTextEdits } from './text-edits.js';

export type RunUpdate =
  | { document: vscode.Uri; kind: 'started'; server: string }
  | { document: vscode.Uri; kind: 'progress'; progress: ProgressView }
  | { document: vscode.Uri; kind: 'result'; images: vscode.Uri[]; error?: string };

/** A run of the queue as the editor lists it. */
export interface QueuedRun {
  id: number;
  state: 'queued' | 'running';
  server: string;
  /** What sets it apart from the other runs: its seed and prompt. */
  summary: string;
}

interface Run extends QueuedRun {
  document: vscode.TextDocument;
  target: ServerInfo;
  request: GenerateInput;
  /** Aborted by the notification's Cancel or the editor's Cancel button of this run. */
  cancel: AbortController;
}

export interface RunnerOptions {
  /** The editor's queue of edits: a generation reads the file after the edits asked for before it. */
  queue: DocumentQueue;
  /** Where each finished run is kept. */
  gallery: GalleryStore;
  /** Each generation's workflow file, for the Servers view. */
  links?: GenerationLinks;
  clock?: Clock;
  /** A number in [0, 1) for randomized seeds. */
  random?: () => number;
  /** The node definitions a run reads the file with (the selected server's when known); core's bundled ones by default. */
  definitions?: () => Promise<ObjectInfo>;
}

/**
 * Runs a workflow file on the selected server. Generate adds a run to the file's queue with the file's values as
 * they are at that moment (its seed too), and the runs go one after another: a cancellable progress notification,
 * progress and previews mirrored to the open editors, the images saved under the output folder, the run kept in
 * the file's gallery.
 */
export class GenerationRunner implements vscode.Disposable {
  readonly #updates = new vscode.EventEmitter<RunUpdate>();
  readonly onDidUpdate = this.#updates.event;
  readonly #finished = new vscode.EventEmitter<ServerInfo>();
  /** Fires after each generation (for the Servers view's recent generations). */
  readonly onDidFinish = this.#finished.event;
  readonly #queueChanged = new vscode.EventEmitter<vscode.Uri>();
  /** Fires with the workflow file whose queue changed. */
  readonly onDidChangeQueue = this.#queueChanged.event;
  /** Each document's runs not finished yet, in order: the first one runs. */
  readonly #runs = new Map<string, Run[]>();
  /** Each document's last run, resolved when it ends: the next one starts after it. */
  readonly #tails = new Map<string, Promise<unknown>>();
  /** Each document's latest update, for an editor that opens (or reloads) after it was sent. */
  readonly #latest = new Map<string, RunUpdate>();
  readonly #queue: DocumentQueue;
  readonly #gallery: GalleryStore;
  readonly #links: GenerationLinks | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #definitions: () => Promise<ObjectInfo>;
  #nextId = 1;

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
    options: RunnerOptions,
  ) {
    this.#queue = options.queue;
    this.#gallery = options.gallery;
    this.#links = options.links;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#definitions = options.definitions ?? (() => Promise.resolve(CORE_OBJECT_INFO));
  }

  isRunning(document: vscode.Uri): boolean {
    return (this.#runs.get(document.toString())?.length ?? 0) > 0;
  }

  /** The document's runs not finished yet, the running one first. */
  queued(document: vscode.Uri): QueuedRun[] {
    return (this.#runs.get(document.toString()) ?? []).map(({ id, state, server, summary }) => ({ id, state, server, summary }));
  }

  /** Cancels one run (queued or running), or the running one when no run is named. */
  cancel(document: vscode.Uri, runId?: number): void {
    const runs = this.#runs.get(document.toString()) ?? [];
    (runId === undefined ? runs[0] : runs.find((r) => r.id === runId))?.cancel.abort();
  }

  /** What the document's last or current run showed (undefined when it never ran). */
  latest(document: vscode.Uri): RunUpdate | undefined {
    return this.#latest.get(document.toString());
  }

  /**
   * Queues a run of the document's text once pending edits landed; resolves with its saved image files when it
   * ends (empty when it failed or was cancelled).
   */
  async generate(document: vscode.TextDocument): Promise<vscode.Uri[]> {
    if (!readWorkflowDocument(document.getText())) {
      void vscode.window.showErrorMessage('Comfy-Vast: this file is not a ComfyUI workflow (or not valid JSON); fix it before generating.');
      return [];
    }
    let run: Run;
    try {
      const target = await this.selection.require();
      if (!target) return [];
      const request = await this.#queue.run(document.uri, () => this.prepare(document, workflowName(document.fileName)));
      const seed = request.parameters['seed'];
      run = {
        id: this.#nextId++,
        state: 'queued',
        server: target.name,
        summary: [seed !== undefined ? `seed ${seed}` : undefined, request.prompt.slice(0, 60)].filter(Boolean).join(' · '),
        document,
        target,
        request,
        cancel: new AbortController(),
      };
    } catch (error) {
      this.#fail(document.uri, error);
      return [];
    }
    const key = document.uri.toString();
    this.#runs.set(key, [...(this.#runs.get(key) ?? []), run]);
    this.#queueChanged.fire(document.uri);
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(() => this.execute(run));
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => this.#tails.get(key) === tail && this.#tails.delete(key));
    return result;
  }

  /** One run, from its turn in the queue to its images in the gallery. */
  private async execute(run: Run): Promise<vscode.Uri[]> {
    const { document, target } = run;
    const uri = document.uri;
    try {
      // Cancelled while it waited: it never reaches the server.
      if (run.cancel.signal.aborted) return [];
      run.state = 'running';
      this.#queueChanged.fire(uri);
      const name = workflowName(document.fileName);
      const api = await this.connection.api();
      this.#update({ document: uri, kind: 'started', server: target.name });
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Comfy-Vast: generating ${name} on ${target.name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => run.cancel.abort());
          const { generationId } = await api.generate(target.id, run.request);
          void this.#links?.remember(this.connection.apiUrl, generationId, uri);
          progress.report({ message: 'queued' });
          const done = await this.follow(api, generationId, uri, progress, run.cancel.signal);
          if (done.type === 'cancelled') {
            await api.cancel(generationId);
            this.#update({ document: uri, kind: 'result', images: [], error: 'Cancelled' });
            return [];
          }
          if (done.type === 'error') throw Object.assign(new Error(done.details ? `${done.error}: ${done.details}` : done.error), { code: 'GENERATION_FAILED' });
          progress.report({ message: `saving ${done.imageUrls.length} image(s)` });
          const images = await this.save(api, target, generationId, done.imageUrls, document);
          await this.keep(run, generationId, images, await api.cost(generationId).catch(() => undefined));
          this.#update({ document: uri, kind: 'result', images });
          void this.announce(images);
          return images;
        },
      );
    } catch (error) {
      this.#fail(uri, error, target);
      return [];
    } finally {
      const key = uri.toString();
      const left = (this.#runs.get(key) ?? []).filter((r) => r !== run);
      if (left.length > 0) this.#runs.set(key, left);
      else this.#runs.delete(key);
      this.#queueChanged.fire(uri);
      if (run.state === 'running') this.#finished.fire(target);
    }
  }

  #fail(document: vscode.Uri, error: unknown, server?: ServerInfo): void {
    this.#update({ document, kind: 'result', images: [], error: (error as Error).message });
    // Not awaited: the run ends now, not when the user closes the message.
    void this.connection.report(error, 'Comfy-Vast: generation failed', server);
  }

  /** The run in the file's gallery: its images, the values and seed it was asked with, the server, the cost. */
  private async keep(run: Run, generationId: number, images: vscode.Uri[], cost: number | undefined): Promise<void> {
    if (images.length === 0) return;
    const { seed, ...parameters } = run.request.parameters;
    const time = new Date(this.#clock.now()).toISOString();
    const entry: GalleryEntry = {
      id: `${time}#${generationId}`,
      workflow: vscode.workspace.asRelativePath(run.document.uri, false),
      time,
      server: { name: run.target.name, id: run.target.id, apiUrl: this.connection.apiUrl },
      generationId,
      ...(typeof seed === 'number' ? { seed } : {}),
      prompt: run.request.prompt,
      ...(run.request.negativePrompt !== undefined ? { negativePrompt: run.request.negativePrompt } : {}),
      parameters,
      images: images.map((i) => i.path.split('/').pop()!),
      ...(typeof cost === 'number' ? { cost } : {}),
    };
    await this.#gallery.add(run.document.uri, entry).catch((error: unknown) => {
      void vscode.window.showWarningMessage(`Comfy-Vast: the images were saved, but the gallery could not be written: ${(error as Error).message}`);
    });
  }

  /**
   * The request from the file as it is now, with the seed its `control_after_generate` asks for; that seed is
   * written back into the file (a minimal edit) so that the file says which seed made the latest image.
   */
  private async prepare(document: vscode.TextDocument, name: string): Promise<GenerateInput> {
    // Asked first: the text read after it is the one the seed edit applies to.
    const objectInfo = await this.#definitions();
    const text = document.getText();
    const doc = readWorkflowDocument(text);
    if (!doc) throw new Error('this file is not a ComfyUI workflow (or not valid JSON) any more');
    const json: unknown = JSON.parse(text);
    const seed = planSeed(doc, findParameters(json, doc, objectInfo), this.#random);
    if (seed && !(await applyTextEdits(document, seed.edits))) {
      void vscode.window.showWarningMessage(`Comfy-Vast: could not write the seed ${seed.seed} into the file; the generation uses it anyway.`);
    }
    const edited = readWorkflowDocument(document.getText());
    const request = edited ? generateInput(JSON.parse(document.getText()), edited, name, objectInfo) : generateInput(json, doc, name, objectInfo);
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
            ...(event.currentNodeId ? { currentNodeId: event.currentNodeId } : {}),
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
    const folder = outputFolder(document.uri);
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
    for (const runs of this.#runs.values()) for (const r of runs) r.cancel.abort();
    this.#updates.dispose();
    this.#finished.dispose();
    this.#queueChanged.dispose();
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
