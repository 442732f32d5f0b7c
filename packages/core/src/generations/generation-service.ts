import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { ComfyConnectionPool, type ComfyConnection, type ComfyFileRef, type ComfyQueue, type ComfyTarget, type ComfyUiOutput, type PromptOutcome } from '../comfy/index.js';
import { claimOrphans, type WorkOwnership } from '../cluster/orphans.js';
import { generationCost } from '../scheduler/cost.js';
import { detectWorkflowFormat, toApiPrompt } from '../workflow/index.js';
import { ComfyVastError, isComfyVastError, parseOrThrow } from '../errors/index.js';
import type { RateLimiter } from '../limits/index.js';
import type { Collection, Store } from '../store/index.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../util/index.js';
import type { ApiPrompt } from '../workflow/index.js';
import {
  generateInputSchema,
  type ActiveGeneration,
  type GenerateResult,
  type GenerationCompleteEvent,
  type GenerationErrorEvent,
  type GenerationEvent,
  type GenerationHistoryItem,
  type GenerationProgress,
  type GenerationProgressEvent,
} from './results.js';
import { builtinPrompt, DEFAULT_WORKFLOW_ID, preparePrompt } from './builtin-prompt.js';
import { DirectoryImageStore } from './directory-image-store.js';
import { parseImageName, type ImageStore, type StoredImage } from './image-store.js';
import { describeExecutionError, imagesOf, sourceKey } from './outcome.js';
import { ProgressModel } from './progress-model.js';
import { generationsCollection, isActive, type GenerationError, type GenerationRecord } from './records.js';
import { averageSeconds, estimateText, recentTimings, runEstimate } from './timing.js';

/** Where a user's server's ComfyUI is; the server service provides it. */
export interface ComfyTargets {
  getComfyTarget(userId: number, serverId: number): Promise<{ url: string; token?: string; status: string }>;
}

export interface GenerationServiceOptions {
  store: Store;
  clock?: Clock;
  logger?: Logger;
  /** Images go to `<dataDir>/images` unless `imagesDir` says otherwise. */
  dataDir: string;
  /** Where images go, when not in the data directory (a directory several installations share). */
  imagesDir?: string;
  /** Where images are kept, when not in a directory (`imagesDir` is then unused): e.g. a DatabaseImageStore. */
  images?: ImageStore;
  targets: ComfyTargets;
  /** Generation rate limits, keyed by user (10/min, 100/h, 1000/day in the contract). */
  limiter?: RateLimiter;
  /** The API prompt of a workflow by id (the workflow service's); without it only the built-in workflows are available. */
  resolveWorkflow?: (userId: number, workflowId: number) => Promise<ApiPrompt>;
  /** The server's GPU price in $/hour, for each generation's share of the bill. */
  pricePerHour?: (serverId: number) => number | null;
  /** The server's GPU model, for the first estimate of how long a generation takes there. */
  gpuOf?: (serverId: number) => string | null;
  /** Shared connections to ComfyUI servers (default: the service's own pool). */
  connections?: ComfyConnectionPool;
  random?: () => number;
  /** Passed to the service's own connections: see ComfyConnectionOptions. */
  silenceMs?: number;
  promptTimeoutMs?: number;
  unreachableMs?: number;
  /** With several API processes on one store: which process follows which generation (see GenerationOwnership). */
  ownership?: GenerationOwnership;
}

/**
 * Several API processes on one store: each follows the generations it submitted (ComfyUI sends a prompt's events
 * only to the socket of the client id that submitted it), and adopts those of a process that is gone by opening a
 * socket with their client id, which ComfyUI then sends their events to.
 */
export type GenerationOwnership = WorkOwnership;

export interface GenerationServiceEvents {
  progress: (event: GenerationProgressEvent) => void;
  complete: (event: GenerationCompleteEvent) => void;
  error: (event: GenerationErrorEvent) => void;
}

interface Live {
  conn: ComfyConnection;
  model: ProgressModel;
  preview: string | null;
  /** Every change of one generation runs in order through this chain. */
  chain: Promise<void>;
}

/**
 * Image generations on users' ComfyUI servers: submission, progress, images, history and cancel.
 * Each state change is stored before the event about it is emitted; `start()` picks up generations that were
 * in flight when the process stopped.
 */
export class GenerationService extends EventEmitter<GenerationServiceEvents> {
  readonly #generations: Collection<GenerationRecord>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #targets: ComfyTargets;
  readonly #limiter: RateLimiter | undefined;
  readonly #resolveWorkflow: GenerationServiceOptions['resolveWorkflow'];
  readonly #pool: ComfyConnectionPool;
  readonly #ownsPool: boolean;
  readonly #random: () => number;
  readonly #pricePerHour: (serverId: number) => number | null;
  readonly #gpuOf: (serverId: number) => string | null;
  /** serverId -> epoch ms of the last generation queued or ended there. */
  readonly #lastActivity = new Map<number, number>();
  readonly #images: ImageStore;
  readonly #live = new Map<number, Live>();
  readonly #byPrompt = new Map<string, number>();
  readonly #wired = new WeakSet<ComfyConnection>();
  /** Per connection: the read of ComfyUI's queue in flight, and the one that follows it (see #queueAfterNow). */
  readonly #queueReads = new WeakMap<ComfyConnection, { current: Promise<ComfyQueue> | null; next: Promise<ComfyQueue> | null }>();
  /** Built-in workflows as API prompts, converted once: every generate injects into a copy. */
  readonly #builtins = new Map<number, ApiPrompt | undefined>();
  readonly #ownership: GenerationOwnership | undefined;
  /** serverId -> the generations in flight there that another process follows (they count as that server's work). */
  readonly #elsewhere = new Map<number, Set<number>>();

  constructor(options: GenerationServiceOptions) {
    super();
    this.#generations = options.store.collection(generationsCollection);
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ service: 'generations' });
    this.#targets = options.targets;
    this.#limiter = options.limiter;
    this.#resolveWorkflow = options.resolveWorkflow;
    this.#pricePerHour = options.pricePerHour ?? (() => null);
    this.#gpuOf = options.gpuOf ?? (() => null);
    this.#random = options.random ?? Math.random;
    this.#ownership = options.ownership;
    if (this.#ownership) for (const g of this.#generations.filter(isActive)) this.#noteElsewhere(g);
    this.#images = options.images ?? new DirectoryImageStore(options.imagesDir ?? join(options.dataDir, 'images'));
    for (const g of this.#generations.all()) this.#touch(g.serverId, Date.parse(g.completedAt ?? g.createdAt));
    this.#ownsPool = !options.connections;
    this.#pool =
      options.connections ??
      new ComfyConnectionPool({
        clock: this.#clock,
        logger: this.#logger,
        random: this.#random,
        silenceMs: options.silenceMs,
        promptTimeoutMs: options.promptTimeoutMs,
        unreachableMs: options.unreachableMs,
      });
  }

  /**
   * Reconciles, all at once, the generations a previous run left queued or executing. Those whose server is gone
   * fail before this returns; for the others ComfyUI is asked where the prompt stands without holding the start up:
   * finished ones complete with their images, waiting or running ones are followed again, ones ComfyUI no longer
   * knows fail with the reason.
   */
  async start(): Promise<void> {
    if (this.#ownership) return this.adoptOrphans();
    const pending = this.#generations.filter(isActive);
    await Promise.all(pending.map((g) => this.#resume(g)));
  }

  /**
   * With several processes: takes over the generations in flight whose process is gone (or that no process
   * follows), and lets go of those another process took over. Claiming is a versioned update, so of two processes
   * adopting the same generation one wins and the other leaves it. Each adopted one is reconciled with its ComfyUI
   * as after a restart: nothing is submitted again, and its events go on from its stored sequence number.
   */
  async adoptOrphans(): Promise<void> {
    const ownership = this.#ownership;
    if (!ownership) return;
    for (const [id] of this.#live) {
      const g = this.#generations.get(id);
      if (g && g.owner !== ownership.self) this.#detach(id);
    }
    const candidates = this.#generations.filter((g) => isActive(g) && !this.#live.has(g.id) && g.owner !== ownership.self);
    const claimed = await claimOrphans(this.#generations, candidates, ownership);
    await Promise.all(
      claimed.map(async (g) => {
        this.#logger.info({ generationId: g.id }, 'Following a generation whose process is gone');
        this.#noteElsewhere(g);
        await this.#resume(g);
      }),
    );
  }

  /**
   * Records another process changed: a generation this process follows that ended there (cancelled through another
   * process) or was taken over is let go, without an event (the other process sent it).
   */
  remoteChanged(ids: readonly number[]): void {
    for (const id of ids) {
      const g = this.#generations.get(id);
      if (g) this.#noteElsewhere(g);
      if (!this.#live.has(id)) continue;
      if (!g || !isActive(g) || (this.#ownership && g.owner !== this.#ownership.self)) this.#detach(id);
    }
  }

  /** Keeps count of the generations in flight that another process follows, and when a server last saw one. */
  #noteElsewhere(g: GenerationRecord): void {
    const ids = this.#elsewhere.get(g.serverId);
    if (isActive(g) && g.owner !== (this.#ownership?.self ?? null)) {
      if (ids) ids.add(g.id);
      else this.#elsewhere.set(g.serverId, new Set([g.id]));
      this.#touch(g.serverId, Date.parse(g.startedAt ?? g.createdAt));
      return;
    }
    if (!ids?.delete(g.id)) return;
    if (ids.size === 0) this.#elsewhere.delete(g.serverId);
    this.#touch(g.serverId, g.completedAt ? Date.parse(g.completedAt) : this.#clock.now());
  }

  /** A generation of any user, or undefined (for the library's own bookkeeping, never an answer to a user). */
  find(generationId: number): GenerationRecord | undefined {
    return this.#generations.get(generationId);
  }

  /** A server's status changed: its generations are looked at again now, so those of a server gone fail at once. */
  serverChanged(serverId: number): void {
    for (const [id, live] of this.#live) {
      if (this.#generations.get(id)?.serverId === serverId) void this.#enqueue(id, () => this.#relocate(id, live));
    }
  }

  async generate(userId: number, serverId: number, request: unknown): Promise<GenerateResult> {
    const body = parseOrThrow(generateInputSchema, request, 'generate request');
    const target = await this.#targets.getComfyTarget(userId, serverId);
    if (target.status !== 'running') {
      throw new ComfyVastError('SERVER_NOT_RUNNING', `Server ${serverId} is not running (status: ${target.status})`, { details: { serverId, status: target.status } });
    }
    const conn = this.#connection(target, this.#lastClientId(serverId));
    // A workflow sent inline is converted with the server's own node definitions (custom nodes included).
    const workflow =
      body.workflow !== undefined
        ? toApiPrompt(body.workflow, { objectInfo: await conn.client.objectInfo() }).prompt
        : body.workflowId === undefined
          ? this.#builtin(DEFAULT_WORKFLOW_ID)!
          : await this.#workflow(userId, body.workflowId);
    const prepared = preparePrompt(workflow, body, this.#random);
    await this.#limiter?.consumeOrThrow(String(userId), 1, 'generations');
    await conn.start();

    const promptId = randomUUID();
    const now = new Date(this.#clock.now()).toISOString();
    const model = new ProgressModel(prepared.prompt);
    const record = await this.#generations.insert({
      userId,
      serverId,
      pricePerHour: this.#pricePerHour(serverId),
      prompt: body.prompt,
      negativePrompt: body.negativePrompt ?? null,
      workflowId: body.workflowId ?? null,
      parameters: { ...(body.parameters ?? {}), ...(prepared.seed === null ? {} : { seed: prepared.seed }) },
      seed: prepared.seed,
      status: 'queued',
      promptId,
      clientId: conn.socket.clientId,
      owner: this.#ownership?.self ?? null,
      apiPrompt: prepared.prompt,
      progress: 0,
      currentNode: null,
      currentNodeId: null,
      totalNodes: model.totalNodes,
      completedNodes: 0,
      completedNodeIds: [],
      cachedNodes: [],
      images: [],
      imageSources: [],
      nodeErrors: null,
      error: null,
      seq: 0,
      createdAt: now,
      startedAt: null,
      completedAt: null,
      executionTime: null,
    });
    this.#attach(record, conn, model);
    let submitted;
    try {
      submitted = await conn.submit(prepared.prompt, { promptId, extraData: pngInfo(body.workflow) });
    } catch (err) {
      const error: GenerationError = isComfyVastError(err, 'WORKFLOW_INVALID')
        ? { error: 'Workflow invalid', node: null, details: err.message }
        : { error: 'ComfyUI unreachable', node: null, details: (err as Error).message };
      await this.#enqueue(record.id, () => this.#fail(record.id, 'failed', error));
      throw err;
    }
    const nodeErrors = Object.keys(submitted.nodeErrors).length > 0 ? submitted.nodeErrors : null;
    if (nodeErrors) await this.#enqueue(record.id, async () => void (await this.#generations.update(record.id, { nodeErrors })));
    const queuePosition = await this.#queuePosition(conn, promptId).catch(() => 1);
    const run = runEstimate(recentTimings(this.#generations, serverId), prepared.prompt, this.#gpuOf(serverId) ?? undefined);
    return {
      generationId: record.id,
      estimatedTime: estimateText(run, queuePosition),
      queuePosition,
      seed: prepared.seed,
      nodeErrors,
    };
  }

  /** Where the caller's generation stands; another user's is NOT_FOUND, as a missing one. */
  getProgress(userId: number, generationId: number): GenerationProgress {
    return this.#progressOf(this.#owned(userId, generationId));
  }

  /** The caller's queued and executing generations. */
  listActive(userId: number): ActiveGeneration[] {
    return this.#generations
      .filter((g) => g.userId === userId && isActive(g))
      .map((g) => ({ generationId: g.id, serverId: g.serverId, status: g.status, progress: g.progress, prompt: g.prompt }));
  }

  /** Whether the caller has generations on this server (its history outlives the server). */
  hasHistory(userId: number, serverId: number): boolean {
    return this.#generations.page({ where: (g) => g.userId === userId && g.serverId === serverId, limit: 1 }).items.length > 0;
  }

  /** The caller's generations on one server, newest first, `limit` at a time (pass `nextCursor` back as `cursor`). */
  listHistory(userId: number, serverId: number, page: { limit?: number; cursor?: number | null } = {}): { items: GenerationHistoryItem[]; nextCursor: number | null } {
    const result = this.#generations.page({ where: (g) => g.userId === userId && g.serverId === serverId, limit: page.limit ?? 50, cursor: page.cursor ?? null });
    return {
      items: result.items.map((g) => ({
        id: g.id,
        serverId: g.serverId,
        prompt: g.prompt,
        status: g.status,
        images: g.images,
        createdAt: g.createdAt,
        completedAt: g.completedAt,
        seed: g.seed,
        error: g.error,
        cost: costOf(g, g.startedAt ? seconds(g.startedAt, g.completedAt ? Date.parse(g.completedAt) : this.#clock.now()) : null),
      })),
      nextCursor: result.nextCursor,
    };
  }

  /** The stored record (for the caller only). */
  get(userId: number, generationId: number): GenerationRecord {
    return this.#owned(userId, generationId);
  }

  /** The event that ended a finished generation (`complete` or `error`), for late subscribers; undefined while it runs. */
  finalEvent(userId: number, generationId: number): GenerationEvent | undefined {
    const g = this.#owned(userId, generationId);
    if (g.status === 'completed') return this.#completeEvent(g);
    if (g.status === 'failed' || g.status === 'cancelled') return this.#errorEvent(g);
    return undefined;
  }

  /**
   * What a subscriber that last saw event `since` has missed, condensed: nothing when it is up to date, else the
   * final event of a finished generation, or a progress event with the current state (and the latest seq).
   */
  eventsSince(userId: number, generationId: number, since: number): GenerationEvent[] {
    const g = this.#owned(userId, generationId);
    if (since >= g.seq) return [];
    const final = this.finalEvent(userId, generationId);
    if (final) return [final];
    const data = { status: g.status, progress: g.progress, currentNode: g.currentNode, currentNodeId: g.currentNodeId, previewImage: this.#live.get(g.id)?.preview ?? null };
    return [{ type: 'progress', generationId: g.id, userId: g.userId, seq: g.seq, data }];
  }

  /**
   * Ends a queued or executing generation as cancelled here (stored, then the event), then asks its ComfyUI to drop
   * the prompt. ComfyUI failing to answer is logged: the generation stays cancelled.
   */
  async cancel(userId: number, generationId: number): Promise<GenerationProgress> {
    const g = this.#owned(userId, generationId);
    if (!isActive(g)) return this.#progressOf(g);
    // Followed by another process: its ComfyUI is told here all the same, over HTTP.
    const conn = this.#live.get(g.id)?.conn ?? (this.#ownership ? await this.#anyConnection(g) : undefined);
    await this.#enqueue(g.id, () => this.#fail(g.id, 'cancelled', cancelledError));
    // A process following it may have stored progress at the same moment (CONFLICT, memory read again): try again.
    for (let attempt = 0; this.#ownership && attempt < 5 && isActive(this.#generations.get(g.id)!); attempt++) {
      await this.#enqueue(g.id, () => this.#fail(g.id, 'cancelled', cancelledError));
    }
    const ended = this.#generations.get(g.id)!;
    if (conn && ended.status === 'cancelled') await this.#dropRemote(conn, g.promptId);
    return this.#progressOf(ended);
  }

  /** A stored image of the caller's; names that are not ours, or another user's, are NOT_FOUND. */
  async getImage(userId: number, file: string): Promise<StoredImage> {
    const generationId = parseImageName(file)?.generationId;
    const g = generationId === undefined ? undefined : this.#generations.get(generationId);
    const image = g && g.userId === userId && g.images.includes(file) ? await this.#images.stat(file) : undefined;
    if (!image) throw new ComfyVastError('NOT_FOUND', `Image ${file} not found`, { details: { file } });
    return image;
  }

  /** Waits for pending writes and closes the service's own connections. */
  async close(): Promise<void> {
    await Promise.all([...this.#live.values()].map((l) => l.chain));
    if (this.#ownsPool) await this.#pool.closeAll();
  }

  // --- internals ---

  /** A workflow's API prompt: the caller's through `resolveWorkflow`, else the built-in workflow of that id. */
  async #workflow(userId: number, workflowId: number): Promise<ApiPrompt> {
    let notFound: unknown = new ComfyVastError('NOT_FOUND', `Workflow ${workflowId} not found`, { details: { workflowId } });
    if (this.#resolveWorkflow) {
      try {
        return await this.#resolveWorkflow(userId, workflowId);
      } catch (err) {
        if (!isComfyVastError(err, 'NOT_FOUND')) throw err;
        notFound = err;
      }
    }
    const prompt = this.#builtin(workflowId);
    if (!prompt) throw notFound;
    return prompt;
  }

  /** Where a just-submitted prompt stands in ComfyUI's queue: 1 when it runs, 0 when it has already finished. */
  async #queuePosition(conn: ComfyConnection, promptId: string): Promise<number> {
    const queue = await this.#queueAfterNow(conn);
    if (queue.running.some((e) => e.promptId === promptId)) return 1;
    const pending = queue.pending.findIndex((e) => e.promptId === promptId);
    if (pending >= 0) return pending + 1 + queue.running.length;
    const state = await conn.state(promptId);
    return state.state === 'pending' ? state.position : state.state === 'running' ? 1 : 0;
  }

  /**
   * ComfyUI's queue as read after this call: a read that started earlier may miss what was just submitted, so the
   * caller gets the next one. ComfyUI's queue lists every prompt in full, so a batch of submits shares reads instead
   * of each reading the whole queue (which made a batch quadratic).
   */
  #queueAfterNow(conn: ComfyConnection): Promise<ComfyQueue> {
    let reads = this.#queueReads.get(conn);
    if (!reads) this.#queueReads.set(conn, (reads = { current: null, next: null }));
    const r = reads;
    const start = (): Promise<ComfyQueue> => {
      const read: Promise<ComfyQueue> = conn.client.queue().finally(() => {
        if (r.current === read) r.current = null;
      });
      r.current = read;
      return read;
    };
    if (!r.current) return start();
    r.next ??= r.current
      .catch(() => undefined)
      .then(() => {
        r.next = null;
        return start();
      });
    return r.next;
  }

  #builtin(id: number): ApiPrompt | undefined {
    if (!this.#builtins.has(id)) this.#builtins.set(id, builtinPrompt(id));
    return this.#builtins.get(id);
  }

  #owned(userId: number, generationId: number): GenerationRecord {
    const g = this.#generations.get(generationId);
    if (!g || g.userId !== userId) throw new ComfyVastError('NOT_FOUND', `Generation ${generationId} not found`, { details: { generationId } });
    return g;
  }

  /** The client id of this process's latest generation on the server: never another live process's socket. */
  #lastClientId(serverId: number): string | undefined {
    const self = this.#ownership?.self ?? null;
    return this.#generations.page({ where: (g) => g.serverId === serverId && g.owner === self, limit: 1 }).items[0]?.clientId;
  }

  #connection(target: ComfyTarget, clientId: string | undefined): ComfyConnection {
    const conn = this.#pool.get(target, { clientId });
    if (this.#wired.has(conn)) return conn;
    this.#wired.add(conn);
    const on = (promptId: string, fn: (id: number, live: Live) => Promise<void> | void) => {
      const id = this.#byPrompt.get(promptId);
      const live = id === undefined ? undefined : this.#live.get(id);
      if (id !== undefined && live) void this.#enqueue(id, () => fn(id, live));
    };
    conn.on('start', (p) => on(p, (id, live) => this.#markExecuting(id, live)));
    conn.on('cached', (p, nodes) =>
      on(p, (id, live) => {
        live.model.setCached(nodes);
        return this.#progressChange(id, live, { cachedNodes: nodes });
      }),
    );
    conn.on('node', (p, node) =>
      on(p, (id, live) => {
        live.model.startNode(node);
        return this.#progressChange(id, live, { currentNode: live.model.classOf(node), currentNodeId: node });
      }),
    );
    conn.on('progress', (p, node, value, max) =>
      on(p, (id, live) => {
        live.model.step(node, value, max);
        return this.#progressChange(id, live, {});
      }),
    );
    conn.on('preview', (p, preview) =>
      on(p, (id, live) => {
        live.preview = preview.dataUrl;
        return this.#progressChange(id, live, {});
      }),
    );
    conn.on('executed', (p, _node, output) => on(p, (id, live) => this.#fetchImages(id, live, [output], 'output')));
    conn.on('state', (p, state) => on(p, (id, live) => (state.state === 'running' ? this.#markExecuting(id, live) : undefined)));
    conn.on('finished', (p, outcome) => on(p, (id, live) => this.#finish(id, live, outcome)));
    conn.on('unreachable', (p) => on(p, (id, live) => this.#relocate(id, live)));
    return conn;
  }

  /** Work on one server right now, and when a generation was last queued or ended there (for idle stop). */
  activity(serverId: number): { queued: number; running: number; lastActivityAt: number } {
    let queued = 0;
    let running = 0;
    const tally = (id: number) => {
      const g = this.#generations.get(id);
      if (g?.serverId !== serverId) return;
      if (g.status === 'queued') queued++;
      else if (g.status === 'executing') running++;
    };
    for (const id of this.#live.keys()) tally(id);
    for (const id of this.#elsewhere.get(serverId) ?? []) tally(id);
    return { queued, running, lastActivityAt: this.#lastActivity.get(serverId) ?? 0 };
  }

  #touch(serverId: number, at: number): void {
    if (at > (this.#lastActivity.get(serverId) ?? 0)) this.#lastActivity.set(serverId, at);
  }

  #attach(record: GenerationRecord, conn: ComfyConnection, model: ProgressModel): Live {
    this.#touch(record.serverId, this.#clock.now());
    const live: Live = { conn, model, preview: null, chain: Promise.resolve() };
    this.#live.set(record.id, live);
    this.#byPrompt.set(record.promptId, record.id);
    return live;
  }

  #detach(id: number): void {
    const g = this.#generations.get(id);
    const live = this.#live.get(id);
    this.#live.delete(id);
    if (!g) return;
    live?.conn.untrack(g.promptId);
    this.#byPrompt.delete(g.promptId);
    this.#touch(g.serverId, this.#clock.now());
  }

  #enqueue(id: number, fn: () => Promise<void> | void): Promise<void> {
    const live = this.#live.get(id);
    const run = async () => {
      try {
        await fn();
      } catch (err) {
        this.#logger.error({ generationId: id, err: (err as Error).message }, 'Generation update failed');
      }
    };
    if (!live) return run();
    live.chain = live.chain.then(run);
    return live.chain;
  }

  async #resume(g: GenerationRecord): Promise<void> {
    const target = await this.#targetOf(g);
    if ('error' in target) return this.#fail(g.id, 'failed', target);
    const conn = this.#connection(target, g.clientId);
    this.#attach(g, conn, new ProgressModel(g.apiPrompt as ApiPrompt, g.cachedNodes, g.completedNodeIds));
    this.#follow(g, conn);
  }

  /**
   * Waits for the generation's prompt on this connection: opens the socket, then reads the prompt's state once (the
   * answer comes as events). Nothing waits on it, so a ComfyUI slow to refuse holds up neither the start nor a cancel.
   */
  #follow(g: GenerationRecord, conn: ComfyConnection): void {
    conn.track(g.promptId);
    void conn
      .start()
      .catch((err: Error) => this.#logger.warn({ generationId: g.id, err: err.message }, 'ComfyUI socket unavailable; polling instead'))
      .then(() => conn.check(g.promptId));
  }

  /**
   * ComfyUI did not answer about a generation, or its server changed: a server that is gone (deleted, stopped, no
   * longer the owner's) fails the generation now, one that moved has it followed at its new address; otherwise
   * the connection keeps asking until it gives up.
   */
  async #relocate(id: number, live: Live): Promise<void> {
    const g = this.#generations.get(id);
    if (!g || !isActive(g) || this.#live.get(id) !== live) return;
    const target = await this.#targetOf(g);
    if ('error' in target) return this.#fail(id, 'failed', target);
    const conn = this.#connection(target, g.clientId);
    if (conn === live.conn) return;
    this.#logger.info({ generationId: id }, 'The server’s ComfyUI moved; following the generation there');
    live.conn.untrack(g.promptId);
    live.conn = conn;
    this.#follow(g, conn);
  }

  /** Where the generation's server's ComfyUI answers now, or why the generation cannot finish there. */
  async #targetOf(g: GenerationRecord): Promise<ComfyTarget | GenerationError> {
    let reason: string;
    try {
      const target = await this.#targets.getComfyTarget(g.userId, g.serverId);
      if (target.status === 'running') return target;
      reason = `Server ${g.serverId} is not running (${target.status})`;
    } catch (err) {
      reason = isComfyVastError(err, 'SERVER_NOT_FOUND') ? `Server ${g.serverId} is gone` : (err as Error).message;
    }
    return { error: 'Generation lost', node: null, details: `${reason}; its ComfyUI queue did not survive` };
  }

  /** A connection to the generation's ComfyUI for HTTP requests (its socket is not opened), or none when the server is gone. */
  async #anyConnection(g: GenerationRecord): Promise<ComfyConnection | undefined> {
    const target = await this.#targetOf(g);
    return 'error' in target ? undefined : this.#pool.get(target);
  }

  /** Best effort: removes the prompt from ComfyUI's queue, or interrupts it if it already runs. */
  async #dropRemote(conn: ComfyConnection, promptId: string): Promise<void> {
    try {
      await conn.client.deleteQueued([promptId]);
      // Had it started in the meantime, the delete missed it; an interrupt naming it stops only this prompt.
      await conn.client.interrupt(promptId);
    } catch (err) {
      this.#logger.warn({ promptId, err: (err as Error).message }, 'ComfyUI did not take the cancel; the generation is cancelled here all the same');
    }
  }

  async #markExecuting(id: number, live: Live): Promise<void> {
    if (this.#generations.get(id)?.status === 'queued') await this.#progressChange(id, live, {});
  }

  /**
   * Stores the progress fields with the next seq, then emits the progress event. Any sign of execution makes a
   * queued generation executing; progress never goes back.
   */
  async #progressChange(id: number, live: Live, patch: Partial<GenerationRecord>): Promise<void> {
    const g = this.#generations.get(id);
    if (!g || !isActive(g)) return;
    const updated = await this.#generations.update(id, {
      ...patch,
      status: 'executing',
      startedAt: g.startedAt ?? new Date(this.#clock.now()).toISOString(),
      progress: Math.max(g.progress, live.model.percent),
      totalNodes: live.model.totalNodes,
      completedNodes: live.model.completedNodes,
      completedNodeIds: live.model.completed,
      seq: g.seq + 1,
    });
    this.emit('progress', {
      type: 'progress',
      generationId: id,
      userId: updated.userId,
      seq: updated.seq,
      data: { status: updated.status, progress: updated.progress, currentNode: updated.currentNode, currentNodeId: updated.currentNodeId, previewImage: live.preview },
    });
  }

  /** Downloads images named in outputs (of the wanted type) that are not stored yet, numbering them in order. */
  async #fetchImages(id: number, live: Live, outputs: ComfyUiOutput[], type: string | null): Promise<void> {
    const g = this.#generations.get(id);
    if (!g) return;
    const files = outputs.flatMap(imagesOf).filter((f) => (type === null || f.type === type) && !g.imageSources.includes(sourceKey(f)));
    let images = g.images;
    let sources = g.imageSources;
    for (const file of files) {
      const name = await this.#download(id, images.length + 1, live, file);
      images = [...images, name];
      sources = [...sources, sourceKey(file)];
      await this.#generations.update(id, { images, imageSources: sources });
    }
  }

  async #download(id: number, n: number, live: Live, file: ComfyFileRef): Promise<string> {
    const view = await live.conn.client.view(file);
    return this.#images.save(id, n, view, file.filename);
  }

  async #finish(id: number, live: Live, outcome: PromptOutcome): Promise<void> {
    const g = this.#generations.get(id);
    if (!g || !isActive(g)) return this.#detach(id);
    if (outcome.status === 'success') {
      try {
        const outputs = Object.values(outcome.outputs);
        await this.#fetchImages(id, live, outputs, 'output');
        // A workflow that only previews (PreviewImage) still gets its images kept.
        if (this.#generations.get(id)!.images.length === 0) await this.#fetchImages(id, live, outputs, null);
      } catch (err) {
        await this.#fail(id, 'failed', { error: 'Images unavailable', node: null, details: (err as Error).message });
        return this.#detach(id);
      }
      const done = this.#generations.get(id)!;
      const completedAt = this.#clock.now();
      const updated = await this.#generations.update(id, {
        status: 'completed',
        progress: 100,
        currentNode: null,
      currentNodeId: null,
        completedNodes: done.totalNodes,
        completedAt: new Date(completedAt).toISOString(),
        executionTime: seconds(done.startedAt ?? done.createdAt, completedAt),
        seq: done.seq + 1,
      });
      this.#detach(id);
      this.emit('complete', this.#completeEvent(updated));
      return;
    }
    const cancelled = outcome.status === 'interrupted';
    const error: GenerationError = cancelled
      ? cancelledError
      : outcome.status === 'error'
        ? describeExecutionError(outcome.error)
        : { error: 'Generation lost', node: null, details: outcome.status === 'lost' ? outcome.reason : '' };
    await this.#fail(id, cancelled ? 'cancelled' : 'failed', error);
    this.#detach(id);
  }

  async #fail(id: number, status: 'failed' | 'cancelled', error: GenerationError): Promise<void> {
    const g = this.#generations.get(id);
    if (!g || !isActive(g)) return;
    const now = this.#clock.now();
    const updated = await this.#generations.update(id, {
      status,
      error,
      currentNode: null,
      currentNodeId: null,
      completedAt: new Date(now).toISOString(),
      executionTime: g.startedAt ? seconds(g.startedAt, now) : null,
      seq: g.seq + 1,
    });
    this.#detach(id);
    this.emit('error', this.#errorEvent(updated));
  }

  #completeEvent(g: GenerationRecord): GenerationCompleteEvent {
    return { type: 'complete', generationId: g.id, userId: g.userId, seq: g.seq, data: { status: 'completed', images: g.images, executionTime: g.executionTime } };
  }

  #errorEvent(g: GenerationRecord): GenerationErrorEvent {
    const error = g.error ?? { error: 'Generation failed', node: null, details: '' };
    return { type: 'error', generationId: g.id, userId: g.userId, seq: g.seq, data: { ...error, status: g.status === 'cancelled' ? 'cancelled' : 'failed' } };
  }

  #progressOf(g: GenerationRecord): GenerationProgress {
    const now = this.#clock.now();
    const executionTime = g.startedAt ? seconds(g.startedAt, g.completedAt ? Date.parse(g.completedAt) : now) : null;
    let remaining: number | null = null;
    if (g.status === 'completed') remaining = 0;
    else if (g.status === 'executing' && executionTime !== null && g.progress > 0) remaining = round1((executionTime * (100 - g.progress)) / g.progress);
    else if (g.status === 'queued') remaining = averageSeconds(recentTimings(this.#generations, g.serverId));
    return {
      generationId: g.id,
      status: g.status,
      progress: g.progress,
      currentNode: g.currentNode,
      currentNodeId: g.currentNodeId,
      totalNodes: g.totalNodes,
      completedNodes: g.completedNodes,
      previewImage: this.#live.get(g.id)?.preview ?? null,
      executionTime,
      estimatedTimeRemaining: remaining,
      cost: costOf(g, executionTime),
    };
  }
}

const cancelledError: GenerationError = { error: 'Generation cancelled', node: null, details: 'Cancelled by the user' };

const round1 = (n: number): number => Math.round(n * 10) / 10;
const seconds = (fromIso: string, to: number): number => round1(Math.max(0, to - Date.parse(fromIso)) / 1000);

/** A generation's share of the bill: its GPU time at the price of its server. */
function costOf(g: GenerationRecord, executionTime: number | null): number | null {
  if (g.pricePerHour === null || executionTime === null) return null;
  return Math.round(generationCost(executionTime, g.pricePerHour) * 1e6) / 1e6;
}

/**
 * What ComfyUI writes into each PNG besides the prompt: the UI workflow, as its own frontend sends it, so that an
 * image dropped back onto ComfyUI opens with its layout. An API prompt has no layout to carry.
 */
function pngInfo(workflow: unknown): Record<string, unknown> | undefined {
  return detectWorkflowFormat(workflow) === 'ui' ? { extra_pnginfo: { workflow } } : undefined;
}
