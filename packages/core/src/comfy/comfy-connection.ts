import { EventEmitter } from 'eventemitter3';
import type { Dispatcher } from 'undici';
import { silentLogger, systemClock, type Clock, type Logger, type TimerHandle } from '../util/index.js';
import { randomUUID } from 'node:crypto';
import { ComfyClient, type SubmitResult } from './comfy-client.js';
import { ComfySocket, type ComfyPreview } from './comfy-socket.js';
import { executionErrorSchema, type ComfyExecutionError, type ComfyHistoryEntry, type ComfyJob, type ComfyUiOutput, type ComfyWsMessage } from './schemas.js';

export type PromptOutcome =
  | { status: 'success'; outputs: Record<string, ComfyUiOutput> }
  | { status: 'error'; outputs: Record<string, ComfyUiOutput>; error: ComfyExecutionError | undefined }
  | { status: 'interrupted'; outputs: Record<string, ComfyUiOutput> }
  | { status: 'lost'; reason: string };

/** Where a prompt stands according to ComfyUI's HTTP API. */
export type PromptState = { state: 'pending'; position: number } | { state: 'running' } | { state: 'finished'; outcome: PromptOutcome };

export interface ComfyConnectionEvents {
  start: (promptId: string) => void;
  cached: (promptId: string, nodes: string[]) => void;
  node: (promptId: string, node: string) => void;
  progress: (promptId: string, node: string | undefined, value: number, max: number) => void;
  preview: (promptId: string, preview: ComfyPreview) => void;
  executed: (promptId: string, node: string, output: ComfyUiOutput) => void;
  /** Exactly once per tracked prompt, from the socket or from reconciliation. */
  finished: (promptId: string, outcome: PromptOutcome) => void;
  /** Reconciliation found the prompt waiting or running. */
  state: (promptId: string, state: Exclude<PromptState, { state: 'finished' }>) => void;
  /** ComfyUI did not answer a read of the prompt's state; it is read again with backoff until `unreachableMs`. */
  unreachable: (promptId: string, error: Error) => void;
}

export interface ComfyConnectionOptions {
  url: string;
  token?: string;
  /** `user:password` of a basic-auth proxy in front of the ComfyUI. */
  basicAuth?: string;
  clock?: Clock;
  logger?: Logger;
  /** An undici dispatcher for the HTTP calls (proxy, custom pool); the global one by default. */
  dispatcher?: Dispatcher;
  random?: () => number;
  /** The socket's client id; reuse the previous one after a restart so ComfyUI keeps sending its prompts' events to us. */
  clientId?: string;
  /** Without an event about a tracked prompt for this long, its state is read over HTTP (default 30 s). */
  silenceMs?: number;
  /** A prompt still unfinished this long after it was tracked is given up, interrupted and reported lost (default 1 h). */
  promptTimeoutMs?: number;
  /**
   * A prompt whose state ComfyUI has not answered for this long (from the first failed read since its last news) is
   * reported lost (default 2 min): an unreachable server must not hold a generation until `promptTimeoutMs`.
   */
  unreachableMs?: number;
  /** Socket reconnects, and reads of a prompt's state after a failed one, wait from `initialMs` doubling (to `silenceMs` for reads). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** With no prompt tracked for this long the socket is closed; the next submit reopens it (default 10 min, 0 = never). */
  idleCloseMs?: number;
}

interface Tracked {
  silence: TimerHandle | null;
  deadline: TimerHandle;
  outputs: Record<string, ComfyUiOutput>;
  error?: ComfyExecutionError;
  interrupted: boolean;
  checking: boolean;
  /** Failed state reads in a row, and when the first of them failed (clock ms). */
  failures: number;
  unreachableSince: number | null;
}

/**
 * One ComfyUI as we use it: its HTTP client, our single socket to it, and the prompts we wait for.
 * Completion comes from the socket when it can and from `/queue` plus `/api/jobs` or `/history` when it cannot:
 * after every reconnect, and whenever a prompt has been silent for `silenceMs`.
 */
export class ComfyConnection extends EventEmitter<ComfyConnectionEvents> {
  readonly client: ComfyClient;
  readonly socket: ComfySocket;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #silenceMs: number;
  readonly #timeoutMs: number;
  readonly #unreachableMs: number;
  readonly #retryMs: number;
  readonly #idleCloseMs: number;
  readonly #tracked = new Map<string, Tracked>();
  #started: Promise<void> | null = null;
  #idle: TimerHandle | null = null;
  #closing: Promise<void> | null = null;

  constructor(options: ComfyConnectionOptions) {
    super();
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ comfy: options.url });
    this.#silenceMs = options.silenceMs ?? 30_000;
    this.#timeoutMs = options.promptTimeoutMs ?? 3_600_000;
    this.#unreachableMs = options.unreachableMs ?? 120_000;
    this.#retryMs = options.backoff?.initialMs ?? 500;
    this.#idleCloseMs = options.idleCloseMs ?? 600_000;
    this.client = new ComfyClient({ url: options.url, token: options.token, basicAuth: options.basicAuth, logger: this.#logger, clock: this.#clock, dispatcher: options.dispatcher });
    this.socket = new ComfySocket({ url: options.url, token: options.token, basicAuth: options.basicAuth, clientId: options.clientId, clock: this.#clock, logger: this.#logger, random: options.random, backoff: options.backoff });
    this.socket.on('message', (msg) => this.#onMessage(msg));
    this.socket.on('preview', (preview) => {
      if (preview.promptId && this.#tracked.has(preview.promptId)) {
        this.#touch(preview.promptId);
        this.emit('preview', preview.promptId, preview);
      }
    });
    this.socket.on('open', ({ reconnected }) => {
      if (!reconnected) return;
      this.#logger.info({ prompts: this.#tracked.size }, 'ComfyUI socket reconnected; reconciling prompts');
      this.client.invalidateObjectInfo();
      void this.reconcile();
    });
  }

  /** Opens the socket once; later calls share the first attempt (and retry after a failure). */
  start(): Promise<void> {
    if (!this.#started) {
      // An idle close still in progress must finish first: the old socket closing later would unregister our id.
      const attempt = (this.#closing ?? Promise.resolve()).then(() => this.socket.connect());
      this.#started = attempt;
      attempt.catch(() => {
        if (this.#started === attempt) this.#started = null;
      });
    }
    return this.#started;
  }

  get trackedCount(): number {
    return this.#tracked.size;
  }

  /**
   * Submits with our socket's client id so that the events come to us. The prompt id is ours and tracked before
   * the request goes out: ComfyUI may start running it before its answer reaches us.
   */
  async submit(prompt: Record<string, unknown>, options: { promptId?: string; extraData?: Record<string, unknown> } = {}): Promise<SubmitResult> {
    await this.start();
    const promptId = options.promptId ?? randomUUID();
    const extraData = options.extraData;
    this.track(promptId);
    try {
      return await this.client.submit(prompt, { clientId: this.socket.clientId, promptId, extraData });
    } catch (err) {
      this.untrack(promptId);
      throw err;
    }
  }

  /** Waits for a prompt submitted earlier (for example before a restart). */
  track(promptId: string): void {
    if (this.#tracked.has(promptId)) return;
    if (this.#idle) this.#clock.clearTimeout(this.#idle);
    this.#idle = null;
    const deadline = this.#clock.setTimeout(() => void this.#giveUp(promptId), this.#timeoutMs);
    this.#tracked.set(promptId, { silence: null, deadline, outputs: {}, interrupted: false, checking: false, failures: 0, unreachableSince: null });
    this.#touch(promptId);
  }

  untrack(promptId: string): void {
    const t = this.#tracked.get(promptId);
    if (!t) return;
    if (t.silence) this.#clock.clearTimeout(t.silence);
    this.#clock.clearTimeout(t.deadline);
    this.#tracked.delete(promptId);
    if (this.#tracked.size === 0 && this.#idleCloseMs > 0 && !this.#idle) this.#idle = this.#clock.setTimeout(() => this.#closeIdle(), this.#idleCloseMs);
  }

  /** Closes the socket of a connection nobody waits on, so stopped servers are not redialled forever. */
  #closeIdle(): void {
    this.#idle = null;
    if (this.#tracked.size > 0 || !this.#started) return;
    this.#started = null;
    this.#logger.debug({}, 'Closing the idle ComfyUI socket');
    const closing = this.socket.close().finally(() => {
      if (this.#closing === closing) this.#closing = null;
    });
    this.#closing = closing;
  }

  /** Reads the state of every tracked prompt over HTTP, finishing those that ended while we were not listening. */
  async reconcile(): Promise<void> {
    await Promise.all([...this.#tracked.keys()].map((id) => this.check(id)));
  }

  /**
   * Reads one prompt's state over HTTP and acts on it. A failed read is retried with backoff and reported as
   * `unreachable`; after `unreachableMs` without an answer the prompt is reported lost.
   */
  async check(promptId: string): Promise<PromptState | undefined> {
    const t = this.#tracked.get(promptId);
    if (!t || t.checking) return undefined;
    t.checking = true;
    try {
      const state = await this.state(promptId);
      if (!this.#tracked.has(promptId)) return state;
      t.failures = 0;
      t.unreachableSince = null;
      if (state.state === 'finished') this.#finish(promptId, state.outcome);
      else {
        this.emit('state', promptId, state);
        this.#touch(promptId);
      }
      return state;
    } catch (err) {
      if (this.#tracked.has(promptId)) this.#unanswered(promptId, t, err as Error);
      return undefined;
    } finally {
      t.checking = false;
    }
  }

  /** A prompt's state from `/queue`, then `/api/jobs/{id}` when the server has it, else `/history/{id}`. */
  async state(promptId: string): Promise<PromptState> {
    const queue = await this.client.queue();
    if (queue.running.some((e) => e.promptId === promptId)) return { state: 'running' };
    const pending = queue.pending.findIndex((e) => e.promptId === promptId);
    if (pending >= 0) return { state: 'pending', position: pending + 1 + queue.running.length };
    const outcome = await this.#recorded(promptId);
    // Between the two reads a pending prompt may have started: that is still not lost.
    if (outcome === 'active') return { state: 'running' };
    return { state: 'finished', outcome: outcome ?? { status: 'lost', reason: 'ComfyUI no longer knows this prompt (it was removed or the server restarted)' } };
  }

  /** What ComfyUI recorded of a prompt, from `/api/jobs/{id}` when the server has it, else `/history/{id}`. */
  async #recorded(promptId: string): Promise<PromptOutcome | 'active' | undefined> {
    return (await this.client.hasJobsApi()) ? outcomeOfJob(await this.client.job(promptId)) : outcomeOfHistory(await this.client.history(promptId));
  }

  async close(): Promise<void> {
    for (const id of [...this.#tracked.keys()]) this.untrack(id);
    if (this.#idle) this.#clock.clearTimeout(this.#idle);
    this.#idle = null;
    await this.socket.close();
    this.#started = null;
  }

  #unanswered(promptId: string, t: Tracked, error: Error): void {
    const now = this.#clock.now();
    t.unreachableSince ??= now;
    t.failures++;
    const silentMs = now - t.unreachableSince;
    if (silentMs >= this.#unreachableMs) {
      this.#logger.warn({ promptId, err: error.message }, 'ComfyUI stopped answering; giving the prompt up');
      this.#finish(promptId, { status: 'lost', reason: `ComfyUI did not answer for ${Math.round(silentMs / 1000)} s (${error.message})` });
      return;
    }
    this.#logger.warn({ promptId, err: error.message }, 'Could not read the prompt state from ComfyUI');
    this.#touch(promptId, Math.min(this.#retryMs * 2 ** (t.failures - 1), this.#silenceMs));
    this.emit('unreachable', promptId, error);
  }

  #onMessage(msg: ComfyWsMessage): void {
    if (msg.type === 'status') return;
    const promptId = msg.data.prompt_id;
    if (!promptId) return;
    const t = this.#tracked.get(promptId);
    if (!t) return;
    t.failures = 0;
    t.unreachableSince = null;
    this.#touch(promptId);
    switch (msg.type) {
      case 'execution_start':
        return void this.emit('start', promptId);
      case 'execution_cached':
        return void this.emit('cached', promptId, msg.data.nodes);
      case 'executing':
        // node null comes after history is written, on success, error and interrupt alike.
        if (msg.data.node === null) return void this.#complete(promptId);
        return void this.emit('node', promptId, msg.data.node);
      case 'progress':
        return void this.emit('progress', promptId, msg.data.node ?? undefined, msg.data.value, msg.data.max);
      case 'executed':
        if (msg.data.output) {
          t.outputs[msg.data.node] = msg.data.output;
          this.emit('executed', promptId, msg.data.node, msg.data.output);
        }
        return;
      case 'execution_error':
        t.error = msg.data;
        return;
      case 'execution_interrupted':
        t.interrupted = true;
        return;
      default:
        return;
    }
  }

  /** The socket said the prompt is done; history has the authoritative outputs, the socket a fallback. */
  async #complete(promptId: string): Promise<void> {
    const t = this.#tracked.get(promptId);
    if (!t) return;
    const fromSocket: PromptOutcome = t.interrupted
      ? { status: 'interrupted', outputs: t.outputs }
      : t.error
        ? { status: 'error', outputs: t.outputs, error: t.error }
        : { status: 'success', outputs: t.outputs };
    let outcome: PromptOutcome = fromSocket;
    try {
      // The prompt's own record only: the whole queue, which `state` reads first, lists every waiting prompt in
      // full, and reading it at each end made a batch cost its length squared.
      const recorded = await this.#recorded(promptId);
      if (recorded !== undefined && recorded !== 'active') outcome = recorded;
    } catch (err) {
      this.#logger.warn({ promptId, err: (err as Error).message }, 'Using the socket’s account of a finished prompt');
    }
    this.#finish(promptId, outcome);
  }

  #finish(promptId: string, outcome: PromptOutcome): void {
    if (!this.#tracked.has(promptId)) return;
    this.untrack(promptId);
    this.emit('finished', promptId, outcome);
  }

  /** Reads the prompt's state after `ms` (default `silenceMs`) unless news about it comes first. */
  #touch(promptId: string, ms = this.#silenceMs): void {
    const t = this.#tracked.get(promptId);
    if (!t) return;
    if (t.silence) this.#clock.clearTimeout(t.silence);
    t.silence = this.#clock.setTimeout(() => {
      t.silence = null;
      void this.check(promptId);
    }, ms);
  }

  async #giveUp(promptId: string): Promise<void> {
    if (!this.#tracked.has(promptId)) return;
    this.#logger.warn({ promptId }, 'Prompt exceeded its time limit; cancelling it');
    await Promise.allSettled([this.client.interrupt(promptId), this.client.deleteQueued([promptId])]);
    this.#finish(promptId, { status: 'lost', reason: `No result within ${Math.round(this.#timeoutMs / 1000)} s` });
  }
}

const definedOutputs = (outputs: Record<string, ComfyUiOutput | null> | undefined): Record<string, ComfyUiOutput> =>
  Object.fromEntries(Object.entries(outputs ?? {}).filter((e): e is [string, ComfyUiOutput] => e[1] !== null));

function outcomeOfJob(job: ComfyJob | undefined): PromptOutcome | 'active' | undefined {
  if (!job) return undefined;
  const outputs = definedOutputs(job.outputs);
  switch (job.status) {
    case 'pending':
    case 'in_progress':
      return 'active';
    case 'completed':
      return { status: 'success', outputs };
    case 'cancelled':
      return { status: 'interrupted', outputs };
    case 'failed':
      return { status: 'error', outputs, error: errorOf(job.execution_error ?? job.execution_status?.messages.find(([t]) => t === 'execution_error')?.[1]) };
  }
}

function outcomeOfHistory(entry: ComfyHistoryEntry | undefined): PromptOutcome | undefined {
  if (!entry) return undefined;
  const outputs = definedOutputs(entry.outputs);
  const messages = entry.status?.messages ?? [];
  if (entry.status?.status_str === 'success' || (!entry.status && Object.keys(outputs).length > 0)) return { status: 'success', outputs };
  if (messages.some(([t]) => t === 'execution_interrupted')) return { status: 'interrupted', outputs };
  return { status: 'error', outputs, error: errorOf(messages.find(([t]) => t === 'execution_error')?.[1]) };
}

function errorOf(data: unknown): ComfyExecutionError | undefined {
  const parsed = executionErrorSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
