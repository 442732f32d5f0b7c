import { randomUUID } from 'node:crypto';
import { buildObjectInfo, type ModelFiles, type ObjectInfo } from './catalog.js';
import { heapPop, heapPush, heapify } from './heap.js';
import { runPrompt } from './runner.js';
import type { SocketHub } from './socket-hub.js';
import type { FakeComfyFault, HistoryEntry, QueueItem, Timing, UiOutput } from './types.js';
import type { ApiPrompt } from './prompt.js';

const HISTORY_CAP = 10_000;
const byNumber = (a: QueueItem, b: QueueItem): boolean => a.number < b.number;

interface Running {
  item: QueueItem;
  abort: AbortController;
  lastNode: string | null;
  startedAt: number;
}

export interface StoredFile {
  data: Buffer;
  mtime: number;
}

/** The fake's queue, executor loop, history and files: the state behind the HTTP routes. */
export class Engine {
  readonly pending: QueueItem[] = [];
  running: Running | null = null;
  readonly history = new Map<string, HistoryEntry>();
  readonly times = new Map<string, { created: number; started?: number; ended?: number }>();
  readonly files = new Map<string, StoredFile>();
  readonly #cache = new Map<string, UiOutput | null>();
  readonly #counters = new Map<string, number>();
  readonly #faults: FakeComfyFault[] = [];
  readonly #tempTag = Math.random().toString(36).slice(2, 7).padEnd(5, 'x');
  #number = 0;
  #objectInfo: ObjectInfo | null = null;
  #objectInfoKey = '';

  constructor(
    private readonly hub: SocketHub,
    private readonly timing: Timing,
    private readonly previews: boolean,
    readonly models: ModelFiles,
    private readonly modelFiles?: () => ModelFiles,
  ) {}

  get objectInfo(): ObjectInfo {
    const models = this.listModels();
    // Files provided from outside change without notice: the combos are rebuilt when the listing differs.
    const key = JSON.stringify(models);
    if (this.#objectInfo === null || this.#objectInfoKey !== key) {
      this.#objectInfo = buildObjectInfo(models, this.inputFiles());
      this.#objectInfoKey = key;
    }
    return this.#objectInfo;
  }

  /** The model files per folder: the fake's own, then the provided ones, without repeats. */
  listModels(): ModelFiles {
    const extra = this.modelFiles?.() ?? {};
    const out: ModelFiles = {};
    for (const folder of new Set([...Object.keys(this.models), ...Object.keys(extra)])) {
      out[folder] = [...new Set([...(this.models[folder] ?? []), ...(extra[folder] ?? [])])];
    }
    return out;
  }

  /** Call after models or input files change so `/object_info` lists them. */
  invalidateObjectInfo(): void {
    this.#objectInfo = null;
  }

  inputFiles(): string[] {
    return [...this.files.keys()].filter((k) => k.startsWith('input/')).map((k) => k.slice('input/'.length).replace(/^\//, ''));
  }

  queueRemaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  broadcastStatus(): void {
    this.hub.sendJson('status', { status: { exec_info: { queue_remaining: this.queueRemaining() } } }, null);
  }

  injectFault(fault: FakeComfyFault): void {
    this.#faults.push(fault);
  }

  enqueue(prompt: ApiPrompt, outputs: string[], promptId: string | undefined, clientId: string | null, extraData: Record<string, unknown>, front: boolean, number?: number): QueueItem {
    const n = this.#number++;
    const item: QueueItem = { number: number ?? (front ? -n : n), promptId: promptId ?? randomUUID(), prompt, extraData, outputs, clientId };
    heapPush(this.pending, item, byNumber);
    this.times.set(item.promptId, { created: Date.now() });
    this.broadcastStatus();
    queueMicrotask(() => this.#pump());
    return item;
  }

  deletePending(ids: string[]): void {
    const keep = this.pending.filter((i) => !ids.includes(i.promptId));
    if (keep.length === this.pending.length) return;
    this.pending.splice(0, this.pending.length, ...keep);
    heapify(this.pending, byNumber);
    this.broadcastStatus();
  }

  clearPending(): void {
    if (this.pending.length === 0) return;
    this.pending.length = 0;
    this.broadcastStatus();
  }

  /** With an id, interrupts only that prompt if it is the running one; without, whatever runs. */
  interrupt(promptId?: string): boolean {
    if (!this.running || (promptId !== undefined && this.running.item.promptId !== promptId)) return false;
    this.running.abort.abort();
    return true;
  }

  deleteHistory(ids: string[]): void {
    for (const id of ids) this.history.delete(id);
  }

  saveFile(type: 'output' | 'temp' | 'input', subfolder: string, prefix: string, data: Buffer): { filename: string; subfolder: string; type: string } {
    const base = type === 'temp' ? `ComfyUI_temp_${this.#tempTag}` : prefix;
    const counter = (this.#counters.get(`${type}/${base}`) ?? 0) + 1;
    this.#counters.set(`${type}/${base}`, counter);
    const filename = `${base}_${String(counter).padStart(5, '0')}_.png`;
    this.files.set(fileKey(type, subfolder, filename), { data, mtime: Date.now() });
    return { filename, subfolder, type };
  }

  /** Drops the queue and interrupts the running prompt, so no timer outlives the server. */
  stop(): void {
    this.pending.length = 0;
    this.running?.abort.abort();
  }

  #pump(): void {
    if (this.running) return;
    const item = heapPop(this.pending, byNumber);
    if (!item) return;
    const abort = new AbortController();
    this.running = { item, abort, lastNode: null, startedAt: Date.now() };
    const times = this.times.get(item.promptId);
    if (times) times.started = Date.now();
    this.broadcastStatus();
    const fault = this.#faults.shift();
    void runPrompt(
      {
        hub: this.hub,
        timing: this.timing,
        previews: this.previews && item.extraData.preview_method !== 'none',
        cache: this.#cache,
        saveFile: (type, subfolder, prefix, data) => this.saveFile(type, subfolder, prefix, data),
        onNode: (node) => {
          if (this.running) this.running.lastNode = node;
        },
      },
      item,
      fault,
      abort.signal,
    ).then((entry) => {
      this.history.set(item.promptId, entry);
      if (this.history.size > HISTORY_CAP) this.history.delete(this.history.keys().next().value!);
      if (times) times.ended = Date.now();
      this.running = null;
      this.broadcastStatus();
      // The final executing{node:null} comes after history is written (reference §6, "done race").
      if (item.clientId && fault?.kind !== 'mute') this.hub.sendJson('executing', { node: null, prompt_id: item.promptId }, item.clientId);
      this.#pump();
    });
  }
}

export function fileKey(type: string, subfolder: string, filename: string): string {
  return `${type}/${subfolder ? `${subfolder}/` : ''}${filename}`;
}
