import { createHash } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { claimOrphans, type WorkOwnership } from '../cluster/orphans.js';
import type { RedisSlots } from '../cluster/slots.js';
import { ComfyVastError, isComfyVastError, parseOrThrow } from '../errors/index.js';
import { onResult, rateLimitError, type Awaitable, type RateLimiter } from '../limits/index.js';
import { modelRequestSchema, type ModelRequest } from '../remote/inputs.js';
import type { ErrorLine } from '../remote/lines.js';
import { followJob } from '../remote/remote-job.js';
import type { RemoteHost, SshRunner } from '../remote/ssh-runner.js';
import type { Collection, Store } from '../store/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { tokenFor, type ModelCredentials } from './credentials.js';
import { formatBytes, formatDuration, formatSpeed } from './format.js';
import { ProgressMeter } from './progress-meter.js';
import { downloadsCollection, PENDING_STATUSES, type DownloadRecord, type DownloadStatus } from './records.js';
import type { ModelUrlLookup } from './url-lookup.js';

/** The contract's "5 concurrent downloads per server". */
export const DOWNLOADS_PER_SERVER = 5;

/** How many times a cancel is written again when another process changed the download at the same moment. */
const CANCEL_ATTEMPTS = 5;

/** How often a running download's byte count is written to the store (its remote log has every line anyway). */
const SAVE_EVERY_MS = 5_000;

/** A download as its owner follows it: progress, speed and time left, where it goes and why it failed. */
export interface DownloadView {
  downloadId: number;
  userId: number;
  serverId: number;
  status: DownloadStatus;
  progress: number;
  downloadedBytes: number;
  totalBytes: number | null;
  downloadSpeed: string | null;
  estimatedTimeRemaining: string | null;
  folder: string;
  filename: string;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface DownloadRequestResult {
  download: DownloadView;
  /** False when the same file was already pending on the server: the answer is that download. */
  created: boolean;
}

/** A server the downloads go to: its SSH host and the ComfyUI models folder there. */
export interface DownloadTarget extends RemoteHost {
  modelsDir: string;
}

/** The SSH side of a user's server, or the error that says why there is none (not found, not running, not supported). */
export type DownloadRemoteOf = (userId: number, serverId: number) => { runner: Pick<SshRunner, 'run'>; target: DownloadTarget };

export interface ModelDownloadsOptions {
  store: Store;
  remoteOf: DownloadRemoteOf;
  clock?: Clock;
  logger?: Logger;
  /** Running downloads per server; the rest wait as `queued` (default 5). */
  perServer?: number;
  /** Bytes each user may download per day, counted as they arrive (the limits' `downloadBytes`). */
  quota?: RateLimiter;
  /** Resolves Civitai pages and Hugging Face checksums; without it URLs are fetched as given. */
  lookup?: ModelUrlLookup;
  /** The installation's Hugging Face and Civitai tokens, each sent only to its own site. */
  credentials?: ModelCredentials;
  /** With several API processes on one store: each runs the downloads it queued, and adopts those of a process that is gone. */
  ownership?: WorkOwnership;
  /**
   * With several API processes: the per-server cap counted across all of them. A download's turn in this process
   * then waits, `queued`, for one of its server's slots (`perServer` of them, the same in every process).
   */
  slots?: RedisSlots;
}

export interface ModelDownloadsEvents {
  /** Every change of a download: status, bytes, speed. */
  download: [view: DownloadView];
}

/** What a download in this process knows beyond its record: speed, and why it is being stopped. */
interface Live {
  meter: ProgressMeter;
  abort: AbortController;
  finished: Promise<DownloadView>;
  bytes: number;
  total: number | null;
  speed: string | null;
  eta: string | null;
  savedAt: number;
  /** Bytes of this download already counted against its owner's daily allowance. */
  counted: number | null;
  /** `released`: another process ended it or runs it now, and this one lets go of it, leaving its record alone. */
  stopping: 'cancel' | 'quota' | 'close' | 'gone' | 'released' | null;
}

/**
 * Model downloads onto servers through remote.sh. Each server runs at most `perServer` at once (the rest queued in
 * order; with `slots`, counted across every process); the same file requested again while pending is the same
 * download; records are stored, so that after a restart `start()` re-attaches every running download to its remote
 * job (which goes on meanwhile) and starts the queued ones; nothing is fetched twice, since a job id that exists on
 * the server is only followed.
 */
export class ModelDownloads extends EventEmitter<ModelDownloadsEvents> {
  readonly #records: Collection<DownloadRecord>;
  readonly #remoteOf: DownloadRemoteOf;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #perServer: number;
  readonly #quota: RateLimiter | undefined;
  readonly #lookup: ModelUrlLookup | undefined;
  readonly #credentials: ModelCredentials;
  readonly #queues = new Map<number, PQueue>();
  readonly #live = new Map<number, Live>();
  /** Requests being looked up, by file, so that two at once still make one download. */
  readonly #creating = new Map<string, Promise<DownloadView>>();
  readonly #lastActivity = new Map<number, number>();
  readonly #ownership: WorkOwnership | undefined;
  /** The `owner` of the downloads this process runs: null in a single process. */
  readonly #self: string | null;
  readonly #slots: RedisSlots | undefined;

  constructor(options: ModelDownloadsOptions) {
    super();
    this.#records = options.store.collection(downloadsCollection);
    this.#remoteOf = options.remoteOf;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#perServer = options.perServer ?? DOWNLOADS_PER_SERVER;
    this.#quota = options.quota;
    this.#lookup = options.lookup;
    this.#credentials = options.credentials ?? {};
    this.#ownership = options.ownership;
    this.#self = options.ownership?.self ?? null;
    this.#slots = options.slots;
  }

  /**
   * Re-attaches the running downloads of a previous run and queues the queued ones again, in their order; with
   * several processes, those left by a process that is gone.
   */
  async start(): Promise<void> {
    if (this.#ownership) return this.adoptOrphans();
    const pending = this.#records.filter((r) => PENDING_STATUSES.includes(r.status)).sort((a, b) => a.id - b.id);
    for (const record of pending) this.#enqueue(record);
  }

  /**
   * With several processes: takes over the pending downloads whose process is gone (or that no process runs), each
   * re-attached to its remote job or queued again as after a restart, and lets go of those another process took over.
   */
  async adoptOrphans(): Promise<void> {
    const ownership = this.#ownership;
    if (!ownership) return;
    this.remoteChanged([...this.#live.keys()]);
    const candidates = this.#records.filter((r) => PENDING_STATUSES.includes(r.status) && !this.#live.has(r.id) && r.owner !== ownership.self);
    const claimed = await claimOrphans(this.#records, candidates, ownership);
    for (const record of claimed.sort((a, b) => a.id - b.id)) {
      this.#logger.info({ serverId: record.serverId, downloadId: record.id }, 'Running a download whose process is gone');
      this.#enqueue(record);
    }
  }

  /**
   * Records another process changed: their server counts as active, and a download run here that another process
   * ended (cancelled through it) or took over is let go, without an event (that process sent it). Answers the
   * servers of the downloads changed elsewhere, whose work idle stop looks at again.
   */
  remoteChanged(ids: readonly number[]): Set<number> {
    const servers = new Set<number>();
    for (const id of ids) {
      const record = this.#records.get(id);
      if (record && record.owner !== this.#self) {
        this.#lastActivity.set(record.serverId, this.#clock.now());
        servers.add(record.serverId);
        // A download that ended elsewhere freed one of its server's slots: the downloads waiting here try now.
        if (!PENDING_STATUSES.includes(record.status)) this.#slots?.wake(slotKey(record.serverId));
      }
      const live = this.#live.get(id);
      if (!live || live.stopping || (record && PENDING_STATUSES.includes(record.status) && record.owner === this.#self)) continue;
      live.stopping = 'released';
      live.abort.abort(new ComfyVastError('CONFLICT', 'Another process runs this download now'));
    }
    return servers;
  }

  /**
   * Queues a download onto the user's server, or answers the pending one of the same file. RATE_LIMIT_EXCEEDED
   * (with `remaining` bytes in its details) once the user's daily allowance is spent, or smaller than the file
   * when its source says its size.
   */
  async request(userId: number, serverId: number, input: unknown): Promise<DownloadRequestResult> {
    const request = parseOrThrow(modelRequestSchema, input, 'model download');
    this.#remoteOf(userId, serverId);
    await this.#assertAllowance(userId, 1);
    const key = fileKey(serverId, request.folder, request.filename);
    const pending = this.#records.find((r) => r.serverId === serverId && PENDING_STATUSES.includes(r.status) && fileKey(r.serverId, r.folder, r.filename) === key);
    if (pending) return { download: this.#view(pending), created: false };
    const creating = this.#creating.get(key);
    if (creating) return { download: await creating, created: false };
    const created = this.#create(userId, serverId, request);
    this.#creating.set(key, created);
    try {
      return { download: await created, created: true };
    } finally {
      this.#creating.delete(key);
    }
  }

  /** The user's download; another user's is NOT_FOUND, as a missing one. */
  get(userId: number, downloadId: number): DownloadView {
    return this.#view(this.#owned(userId, downloadId));
  }

  /** The downloads of a server that are not over, oldest first. */
  pending(serverId: number): DownloadView[] {
    return this.#records
      .filter((r) => r.serverId === serverId && PENDING_STATUSES.includes(r.status))
      .sort((a, b) => a.id - b.id)
      .map((r) => this.#view(r));
  }

  /** Downloads queued or running on a server (whichever process runs them), and when one last moved (epoch ms, 0 when none ever did). */
  activity(serverId: number): { downloads: number; lastActivityAt: number } {
    return { downloads: this.#records.count((r) => r.serverId === serverId && PENDING_STATUSES.includes(r.status)), lastActivityAt: this.#lastActivity.get(serverId) ?? 0 };
  }

  /** Resolves with the download's last view once it is over (or this service closes). */
  async settled(downloadId: number): Promise<DownloadView | undefined> {
    const live = this.#live.get(downloadId);
    if (live) return live.finished;
    const record = this.#records.get(downloadId);
    return record && this.#view(record);
  }

  /**
   * Cancels a queued or running download: a queued one never starts; a running one's remote job is stopped and its
   * partial file removed. A download that is already over is answered as it is.
   */
  async cancel(userId: number, downloadId: number): Promise<DownloadView> {
    const record = this.#owned(userId, downloadId);
    const live = this.#live.get(downloadId);
    if (!PENDING_STATUSES.includes(record.status)) return this.#view(record);
    if (live) live.stopping = 'cancel';
    const { cancelled, wasRunning } = await this.#cancelRecord(record.id);
    // Run by another process or by this one, the remote job is stopped from here.
    if (wasRunning) await this.#stopRemote(record);
    live?.abort.abort(new ComfyVastError('CONFLICT', 'The download was cancelled'));
    return this.#view(cancelled);
  }

  /**
   * The server stopped or went away: its pending downloads fail now, rather than after their SSH retries. A partial
   * file stays on the server's disk, and a later request for the same file resumes it. Each process fails those it
   * runs; those of a process that is gone fail once adopted.
   */
  async serverGone(serverId: number, reason: string): Promise<void> {
    for (const record of this.#records.filter((r) => r.serverId === serverId && PENDING_STATUSES.includes(r.status) && r.owner === this.#self)) {
      const live = this.#live.get(record.id);
      if (live) live.stopping = 'gone';
      await this.#finish(record.id, { status: 'failed', error: reason });
      live?.abort.abort(new ComfyVastError('SERVER_NOT_RUNNING', reason));
    }
  }

  /** Leaves every download as it stands, to be picked up by the next `start()`; remote jobs go on. */
  async close(): Promise<void> {
    const finishing = [...this.#live.values()].map((live) => {
      live.stopping ??= 'close';
      live.abort.abort(new ComfyVastError('SERVICE_UNAVAILABLE', 'Downloads are closing'));
      return live.finished;
    });
    // Queued ones settle as their turn comes: p-queue drops an aborted task then, without running it.
    await Promise.allSettled(finishing);
  }

  async #create(userId: number, serverId: number, request: ModelRequest): Promise<DownloadView> {
    const resolved = this.#lookup ? await this.#lookup.resolve(request.url, request.sha256, this.#credentials) : { url: request.url, sha256: request.sha256 ?? null, bytes: null };
    if (resolved.bytes !== null) await this.#assertAllowance(userId, resolved.bytes);
    const record = await this.#records.insert({
      userId,
      serverId,
      url: resolved.url,
      folder: request.folder,
      filename: request.filename,
      sha256: resolved.sha256,
      status: 'queued',
      owner: this.#self,
      downloadedBytes: 0,
      totalBytes: resolved.bytes,
      error: null,
      createdAt: new Date(this.#clock.now()).toISOString(),
      finishedAt: null,
    });
    this.#enqueue(record);
    this.#emit(record);
    // A free slot has already started it.
    return this.#view(this.#records.get(record.id) ?? record);
  }

  async #assertAllowance(userId: number, bytes: number): Promise<void> {
    if (!this.#quota) return;
    const result = await this.#quota.peek(quotaKey(userId), bytes);
    if (!result.allowed) throw rateLimitError(result, 'downloaded bytes');
  }

  #owned(userId: number, downloadId: number): DownloadRecord {
    const record = this.#records.get(downloadId);
    if (!record || record.userId !== userId) throw new ComfyVastError('NOT_FOUND', `Download ${downloadId} not found`, { details: { downloadId } });
    return record;
  }

  #queueOf(serverId: number): PQueue {
    let queue = this.#queues.get(serverId);
    if (!queue) this.#queues.set(serverId, (queue = new PQueue({ concurrency: this.#perServer })));
    return queue;
  }

  #enqueue(record: DownloadRecord): void {
    const abort = new AbortController();
    const live: Live = {
      meter: new ProgressMeter(),
      abort,
      finished: Promise.resolve(this.#view(record)),
      bytes: record.downloadedBytes,
      total: record.totalBytes,
      speed: null,
      eta: null,
      savedAt: this.#clock.now(),
      counted: null,
      stopping: null,
    };
    this.#live.set(record.id, live);
    live.finished = this.#queueOf(record.serverId)
      .add(() => this.#run(record.id, live), { signal: abort.signal })
      // Aborted while queued (cancelled, or closing): it never ran, and its record already says why.
      .catch(() => undefined)
      .then(() => this.#view(this.#records.get(record.id)!))
      .finally(() => this.#live.delete(record.id));
  }

  /** A download's turn: with cluster slots, it first waits for one of its server's, held until the download ends here. */
  async #run(id: number, live: Live): Promise<void> {
    const slots = this.#slots;
    // Without slots the download starts within this call, as a request's answer expects of a free place.
    if (!slots) return this.#download(id, live);
    const serverId = this.#records.get(id)!.serverId;
    if (!(await this.#takeSlot(slots, id, serverId, live))) return;
    try {
      await this.#download(id, live);
    } finally {
      await this.#releaseSlot(slots, id, serverId, live);
    }
  }

  /** False when the download ended or is being stopped before it got a slot (cancelled, closing, taken over). */
  async #takeSlot(slots: RedisSlots, id: number, serverId: number, live: Live): Promise<boolean> {
    const record = this.#records.get(id);
    if (!record || !PENDING_STATUSES.includes(record.status) || live.stopping) return false;
    try {
      await slots.take(slotKey(serverId), String(id), live.abort.signal);
      return true;
    } catch {
      // Aborted while waiting: whatever stopped it already wrote its record.
      return false;
    }
  }

  /**
   * A download that ended frees its slot. One this process lets go of while its remote job goes on (closing, or run
   * by another process now) keeps it: the process that takes the download over renews the same slot, and when none
   * does it frees after the ttl; freeing it now would let one more download than the cap start on the server.
   */
  async #releaseSlot(slots: RedisSlots, id: number, serverId: number, live: Live): Promise<void> {
    const record = this.#records.get(id);
    const pending = record !== undefined && PENDING_STATUSES.includes(record.status);
    const goesOn = pending && (record.owner !== this.#self || live.stopping === 'released' || (live.stopping === 'close' && record.status === 'downloading'));
    if (goesOn) slots.forget(slotKey(serverId), String(id));
    else await slots.release(slotKey(serverId), String(id));
  }

  async #download(id: number, live: Live): Promise<void> {
    let record = this.#records.get(id)!;
    if (!PENDING_STATUSES.includes(record.status) || live.stopping) return;
    if (record.status === 'queued') record = await this.#update(id, { status: 'downloading' });
    if (live.stopping) return;
    try {
      const { runner, target } = this.#remoteOf(record.userId, record.serverId);
      const token = tokenFor(record.url, this.#credentials);
      const args = ['download', '--job', jobId(record), '--models', target.modelsDir, '--folder', record.folder, '--name', record.filename, '--url', record.url];
      if (record.sha256) args.push('--sha256', record.sha256);
      if (token !== undefined) args.push('--token-stdin');
      const outcome = await followJob(runner, target, { args, ...(token === undefined ? {} : { stdin: `${token}\n` }) }, {
        signal: live.abort.signal,
        onLine: (line) => {
          if (line.kind === 'progress') this.#onProgress(record, live, line.line.bytes, line.line.total);
        },
      });
      if (live.stopping && live.stopping !== 'quota') return;
      if (outcome.done.rc === 0) await this.#finish(id, { status: 'completed', error: null, downloadedBytes: live.bytes, totalBytes: live.total ?? live.bytes });
      else await this.#finish(id, { status: 'failed', error: this.#failure(live, outcome.error, outcome.done.rc) });
    } catch (error) {
      // CONFLICT: another process changed the download meanwhile (cancelled or took it over); its notice lets go of it here.
      if ((live.stopping && live.stopping !== 'quota') || isComfyVastError(error, 'CONFLICT')) return;
      this.#logger.warn({ serverId: record.serverId, downloadId: id, err: (error as Error).message }, 'model download failed');
      await this.#finish(id, { status: 'failed', error: (error as Error).message });
    }
  }

  #failure(live: Live, error: ErrorLine | undefined, rc: number): string {
    if (live.stopping === 'quota') return 'Stopped: the daily download allowance is used up';
    if (error?.reason === 'disk' && error.need !== undefined && error.free !== undefined) {
      return `Not enough disk space on the server: ${formatBytes(error.need)} needed, ${formatBytes(error.free)} free`;
    }
    return error?.error ?? `The download ended with code ${rc}`;
  }

  #onProgress(record: DownloadRecord, live: Live, bytes: number, total: number | null): void {
    const now = this.#clock.now();
    this.#lastActivity.set(record.serverId, now);
    live.meter.add(now, bytes);
    const speed = live.meter.bytesPerSecond;
    const left = live.meter.secondsLeft(total);
    live.bytes = bytes;
    live.total = total;
    live.speed = speed === null ? null : formatSpeed(speed);
    live.eta = left === null ? null : formatDuration(left);
    this.#count(record, live, bytes);
    if (now - live.savedAt >= SAVE_EVERY_MS) {
      live.savedAt = now;
      void this.#update(record.id, { downloadedBytes: bytes, totalBytes: total }).catch((err: unknown) => this.#logger.error({ err, downloadId: record.id }, 'download progress not saved'));
    } else {
      this.#emit(this.#records.get(record.id)!);
    }
  }

  /**
   * Counts the bytes that arrived since the last line against the owner's daily allowance. The first line of a run
   * reports what was already there (a resumed part, or a log read again after our restart): it is not counted twice.
   * A download that runs past the allowance is stopped.
   */
  #count(record: DownloadRecord, live: Live, bytes: number): void {
    if (!this.#quota) return;
    if (live.counted === null) {
      live.counted = Math.max(record.downloadedBytes, bytes);
      return;
    }
    const delta = bytes - live.counted;
    if (delta <= 0) return;
    const quota = this.#quota;
    const key = quotaKey(record.userId);
    live.counted = bytes;
    const counted = onResult(quota.consume(key, delta), (result) => {
      if (result.allowed || live.stopping) return;
      if (result.remaining > 0) this.#uncounted(record, quota.consume(key, result.remaining));
      live.stopping = 'quota';
      void this.#stopRemote(record);
    });
    this.#uncounted(record, counted);
  }

  /** A shared allowance (Redis) answers later; when it cannot be reached, bytes go uncounted, the download goes on. */
  #uncounted(record: DownloadRecord, counting: Awaitable<unknown>): void {
    if (counting instanceof Promise) counting.catch((err: unknown) => this.#logger.warn({ downloadId: record.id, err: (err as Error).message }, 'downloaded bytes not counted'));
  }

  /** Stops a download's remote job (remote.sh `cancel`: the job's processes and its partial file). */
  async #stopRemote(record: DownloadRecord): Promise<void> {
    try {
      const { runner, target } = this.#remoteOf(record.userId, record.serverId);
      await runner.run(target, ['cancel', '--job', jobId(record), '--models', target.modelsDir, '--folder', record.folder, '--name', record.filename], { timeoutMs: 60_000 });
    } catch (error) {
      this.#logger.warn({ serverId: record.serverId, downloadId: record.id, err: (error as Error).message }, 'remote download not stopped');
    }
  }

  /**
   * Cancels the record. With several processes, the one running the download may store its progress at the same
   * moment (CONFLICT, memory read again): tried again while it is still pending.
   */
  async #cancelRecord(id: number): Promise<{ cancelled: DownloadRecord; wasRunning: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const wasRunning = this.#records.get(id)?.status === 'downloading';
      try {
        return { cancelled: await this.#finish(id, { status: 'cancelled', error: null }), wasRunning };
      } catch (error) {
        const current = this.#records.get(id);
        if (!this.#ownership || attempt >= CANCEL_ATTEMPTS || !isComfyVastError(error, 'CONFLICT') || !current) throw error;
        if (!PENDING_STATUSES.includes(current.status)) return { cancelled: current, wasRunning: false };
      }
    }
  }

  #finish(id: number, change: Partial<DownloadRecord>): Promise<DownloadRecord> {
    return this.#update(id, { ...change, finishedAt: new Date(this.#clock.now()).toISOString() });
  }

  async #update(id: number, change: Partial<Omit<DownloadRecord, 'id'>>): Promise<DownloadRecord> {
    const record = await this.#records.update(id, change);
    if (change.status) this.#lastActivity.set(record.serverId, this.#clock.now());
    this.#emit(record);
    return record;
  }

  #emit(record: DownloadRecord): void {
    this.emit('download', this.#view(record));
  }

  #view(record: DownloadRecord): DownloadView {
    const live = PENDING_STATUSES.includes(record.status) ? this.#live.get(record.id) : undefined;
    const bytes = live ? Math.max(live.bytes, record.downloadedBytes) : record.downloadedBytes;
    const total = live?.total ?? record.totalBytes;
    return {
      downloadId: record.id,
      userId: record.userId,
      serverId: record.serverId,
      status: record.status,
      progress: record.status === 'completed' ? 100 : total ? Math.min(100, Math.floor((bytes * 100) / total)) : 0,
      downloadedBytes: bytes,
      totalBytes: total,
      downloadSpeed: record.status === 'downloading' ? (live?.speed ?? null) : null,
      estimatedTimeRemaining: record.status === 'downloading' ? (live?.eta ?? null) : null,
      folder: record.folder,
      filename: record.filename,
      error: record.error,
      createdAt: record.createdAt,
      finishedAt: record.finishedAt,
    };
  }
}

const quotaKey = (userId: number) => String(userId);

/** A server's download slots among several processes: `<prefix>slots:downloads:<serverId>`. */
const slotKey = (serverId: number) => String(serverId);

const fileKey = (serverId: number, folder: string, filename: string) => `${serverId}\n${folder}\n${filename}`;

/**
 * The remote job of a download. Jobs outlive us on the server, so the id carries a digest of what is fetched: a
 * download numbered like an older one re-attaches to it only when it is the very same file.
 */
export function jobId(record: Pick<DownloadRecord, 'id' | 'folder' | 'filename' | 'url'>): string {
  const digest = createHash('sha256').update(`${record.folder}/${record.filename}\n${record.url}`).digest('hex').slice(0, 16);
  return `dl-${record.id}-${digest}`;
}
