import { createHash } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import { parseOrThrow } from '../errors/index.js';
import { modelRequestSchema, type ModelRequest } from '../remote/inputs.js';
import type { RemoteLine } from '../remote/lines.js';
import { followJob } from '../remote/remote-job.js';
import { Slots } from '../remote/slots.js';
import type { RemoteHost, SshRunner } from '../remote/ssh-runner.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { tokenFor, type ModelCredentials } from './credentials.js';
import { formatDuration, formatSpeed } from './format.js';
import { ProgressMeter } from './progress-meter.js';

/** The contract's "5 concurrent downloads per server". */
export const DOWNLOADS_PER_SERVER = 5;

export const downloadStatusSchema = z.enum(['queued', 'downloading', 'completed', 'failed']);

/** A download as its owner follows it: progress, speed and time left, where it goes and why it failed. */
export const downloadViewSchema = z.object({
  downloadId: z.number().int(),
  status: downloadStatusSchema,
  progress: z.number().int().min(0).max(100),
  downloadedBytes: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative().nullable(),
  downloadSpeed: z.string().nullable(),
  estimatedTimeRemaining: z.string().nullable(),
  folder: z.string(),
  filename: z.string(),
  error: z.string().optional(),
});
export type DownloadView = z.infer<typeof downloadViewSchema>;

/** A server the downloads go to: its SSH host and the ComfyUI models folder there. */
export interface DownloadTarget extends RemoteHost {
  modelsDir: string;
}

export interface ModelDownloadsOptions {
  runner: Pick<SshRunner, 'run'>;
  clock?: Clock;
  logger?: Logger;
  /** Running downloads per server; the rest wait as `queued` (default 5). */
  perServer?: number;
}

export interface ModelDownloadsEvents {
  /** Every change of a download: status, bytes, speed. */
  download: (view: DownloadView) => void;
}

interface Download {
  id: number;
  key: string;
  request: ModelRequest;
  view: DownloadView;
  meter: ProgressMeter;
  finished: Promise<DownloadView>;
}

/**
 * Model downloads onto servers through remote.sh: at most `perServer` running per server (the rest queued in
 * order), the same file requested again while pending answered with the same download, progress with speed and
 * time left. Records live in memory; the caller stores what it must keep.
 */
export class ModelDownloads extends EventEmitter<ModelDownloadsEvents> {
  readonly #runner: Pick<SshRunner, 'run'>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #perServer: number;
  readonly #slots = new Map<string, Slots>();
  readonly #byId = new Map<number, Download>();
  readonly #pending = new Map<string, Download>();
  #nextId = 1;

  constructor(options: ModelDownloadsOptions) {
    super();
    this.#runner = options.runner;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#perServer = options.perServer ?? DOWNLOADS_PER_SERVER;
  }

  /** Queues a download, or answers the pending one of the same file on the same server. */
  request(target: DownloadTarget, input: unknown, credentials: ModelCredentials = {}): DownloadView {
    const request = parseOrThrow(modelRequestSchema, input, 'model download');
    const key = `${target.server}\n${request.folder}\n${request.filename}`;
    const pending = this.#pending.get(key);
    if (pending) return { ...pending.view };

    const id = this.#nextId++;
    const view: DownloadView = {
      downloadId: id,
      status: 'queued',
      progress: 0,
      downloadedBytes: 0,
      totalBytes: null,
      downloadSpeed: null,
      estimatedTimeRemaining: null,
      folder: request.folder,
      filename: request.filename,
    };
    const download: Download = { id, key, request, view, meter: new ProgressMeter(), finished: Promise.resolve(view) };
    this.#byId.set(id, download);
    this.#pending.set(key, download);
    download.finished = this.#slotsOf(target.server)
      .run(() => this.#run(target, download, tokenFor(request.url, credentials)))
      .finally(() => this.#pending.delete(key));
    this.emit('download', { ...view });
    return { ...view };
  }

  get(downloadId: number): DownloadView | undefined {
    const download = this.#byId.get(downloadId);
    return download && { ...download.view };
  }

  /** Resolves with the download's last view once it has completed or failed. */
  async settled(downloadId: number): Promise<DownloadView | undefined> {
    return this.#byId.get(downloadId)?.finished;
  }

  #slotsOf(server: string): Slots {
    let slots = this.#slots.get(server);
    if (!slots) this.#slots.set(server, (slots = new Slots(this.#perServer)));
    return slots;
  }

  async #run(target: DownloadTarget, download: Download, token: string | undefined): Promise<DownloadView> {
    const { request } = download;
    this.#update(download, { status: 'downloading' });
    const args = ['download', '--job', jobId(download.id, request), '--models', target.modelsDir, '--folder', request.folder, '--name', request.filename, '--url', request.url];
    if (request.sha256) args.push('--sha256', request.sha256);
    if (token !== undefined) args.push('--token-stdin');
    try {
      const outcome = await followJob(this.#runner, target, { args, ...(token === undefined ? {} : { stdin: `${token}\n` }) }, {
        onLine: (line) => this.#onLine(download, line),
      });
      if (outcome.done.rc === 0) this.#update(download, { status: 'completed', progress: 100, estimatedTimeRemaining: null, downloadSpeed: null });
      else this.#update(download, { status: 'failed', error: outcome.error?.error ?? `download ended with code ${outcome.done.rc}` });
    } catch (error) {
      this.#logger.warn({ server: target.server, downloadId: download.id, err: (error as Error).message }, 'model download failed');
      this.#update(download, { status: 'failed', error: (error as Error).message });
    }
    return { ...download.view };
  }

  #onLine(download: Download, line: RemoteLine): void {
    if (line.kind !== 'progress') return;
    const { bytes, total } = line.line;
    download.meter.add(this.#clock.now(), bytes);
    const speed = download.meter.bytesPerSecond;
    const left = download.meter.secondsLeft(total);
    this.#update(download, {
      downloadedBytes: bytes,
      totalBytes: total,
      progress: total ? Math.min(100, Math.floor((bytes * 100) / total)) : 0,
      downloadSpeed: speed === null ? null : formatSpeed(speed),
      estimatedTimeRemaining: left === null ? null : formatDuration(left),
    });
  }

  #update(download: Download, change: Partial<DownloadView>): void {
    Object.assign(download.view, change);
    this.emit('download', { ...download.view });
  }
}

/**
 * The remote job of a download. Jobs outlive us on the server, so the id carries a digest of what is fetched: a
 * download numbered like an older one re-attaches to it only when it is the very same file.
 */
function jobId(id: number, request: ModelRequest): string {
  const digest = createHash('sha256').update(`${request.folder}/${request.filename}\n${request.url}`).digest('hex').slice(0, 16);
  return `dl-${id}-${digest}`;
}
