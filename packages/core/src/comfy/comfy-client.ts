import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FormData, request, type Dispatcher } from 'undici';
import { nodeDefinitionsSchema, type ObjectInfo } from '../workflow/object-info.js';
import { z } from 'zod';
import { ComfyVastError } from '../errors/index.js';
import { comfyAuthHeaders } from './auth.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../util/index.js';
import { withTimeout } from '../util/timeout.js';
import {
  historySchema,
  jobSchema,
  promptErrorSchema,
  promptResponseSchema,
  queueSchema,
  systemStatsSchema,
  uploadResponseSchema,
  type ComfyFileRef,
  type ComfyHistoryEntry,
  type ComfyJob,
  type ComfyNodeErrors,
  type ComfySystemStats,
} from './schemas.js';

export interface ComfyClientOptions {
  /** Base URL of the ComfyUI, e.g. `http://127.0.0.1:8188` or Vast's proxied URL. */
  url: string;
  /** Vast's proxy password, sent as a Bearer token. */
  token?: string;
  /** `user:password` of a basic-auth proxy in front of the ComfyUI; sent instead of the token. */
  basicAuth?: string;
  logger?: Logger;
  /** Times the per-request limit. */
  clock?: Clock;
  /** An undici dispatcher (proxy, custom pool); the global one by default. */
  dispatcher?: Dispatcher;
  /** Per-request limit on the clock (default 30 s); `/view` downloads are limited only by their connection. */
  requestTimeoutMs?: number;
}

export interface SubmitOptions {
  /** The socket's client id: ComfyUI sends the prompt's events only there. */
  clientId: string;
  /** Defaults to a fresh UUID (ComfyUI since v0.33 accepts only canonical UUIDs). */
  promptId?: string;
  extraData?: Record<string, unknown>;
  front?: boolean;
}

export interface SubmitResult {
  promptId: string;
  number: number;
  /** Non-empty when ComfyUI dropped some outputs that failed validation and queued the rest. */
  nodeErrors: ComfyNodeErrors;
}

export interface QueueEntry {
  number: number;
  promptId: string;
}

export interface ComfyQueue {
  running: QueueEntry[];
  /** Sorted by number, the order ComfyUI runs them (it serves them in heap order). */
  pending: QueueEntry[];
}

export interface ViewResult {
  stream: Readable;
  contentType: string;
  contentLength: number | undefined;
}

/** A whole answer: reading every body to its end is what lets undici reuse the socket. */
interface Answer {
  status: number;
  text: string;
}

const stringList = z.array(z.string());
type Method = 'GET' | 'POST';
const isOk = (status: number) => status >= 200 && status < 300;

/** ComfyUI's HTTP API for one server. Failures to reach it are COMFY_CONNECTION_FAILED. */
export class ComfyClient {
  readonly url: string;
  readonly #auth: Record<string, string>;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #timeoutMs: number;
  #objectInfo: Promise<ObjectInfo> | null = null;
  #jobsApi: boolean | undefined;

  constructor(options: ComfyClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#auth = comfyAuthHeaders(options);
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#dispatcher = options.dispatcher;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  systemStats(): Promise<ComfySystemStats> {
    return this.#json('GET', '/system_stats', systemStatsSchema);
  }

  /** `/object_info`, fetched once and cached: it is slow on servers with many custom nodes. */
  objectInfo(options: { refresh?: boolean } = {}): Promise<ObjectInfo> {
    if (options.refresh || !this.#objectInfo) {
      const pending = this.#json('GET', '/object_info', nodeDefinitionsSchema);
      this.#objectInfo = pending;
      pending.catch(() => {
        if (this.#objectInfo === pending) this.#objectInfo = null;
      });
    }
    return this.#objectInfo;
  }

  /** Forgets the cached object_info (nodes may have been installed while the server was away). */
  invalidateObjectInfo(): void {
    this.#objectInfo = null;
  }

  /** Model folder keys. */
  async modelFolders(): Promise<string[]> {
    return this.#json('GET', '/models', stringList);
  }

  /** Files of one model folder; an unknown folder is an empty list. */
  async modelFiles(folder: string): Promise<string[]> {
    const answer = await this.#exchange('GET', `/models/${encodeURIComponent(folder)}`);
    if (answer.status === 404) return [];
    return this.#parse(answer, stringList, `/models/${folder}`);
  }

  async submit(prompt: Record<string, unknown>, options: SubmitOptions): Promise<SubmitResult> {
    const promptId = options.promptId ?? randomUUID();
    const body = { prompt, client_id: options.clientId, prompt_id: promptId, extra_data: options.extraData ?? {}, ...(options.front ? { front: true } : {}) };
    const answer = await this.#exchange('POST', '/prompt', JSON.stringify(body));
    if (answer.status === 400) {
      const parsed = promptErrorSchema.safeParse(readJson(answer.text) ?? {});
      const error = parsed.success ? parsed.data.error : undefined;
      const message = typeof error === 'string' ? error : (error?.message ?? 'ComfyUI rejected the workflow');
      throw new ComfyVastError('WORKFLOW_INVALID', message, {
        details: { error: error ?? null, node_errors: parsed.success ? parsed.data.node_errors : {} },
      });
    }
    const data = this.#parse(answer, promptResponseSchema, '/prompt');
    if (Object.keys(data.node_errors).length > 0) {
      this.#logger.warn({ promptId: data.prompt_id, nodes: Object.keys(data.node_errors) }, 'ComfyUI queued the prompt without some outputs that failed validation');
    }
    return { promptId: data.prompt_id, number: data.number, nodeErrors: data.node_errors };
  }

  async queue(): Promise<ComfyQueue> {
    const data = await this.#json('GET', '/queue', queueSchema);
    const entry = (item: (typeof data.queue_running)[number]): QueueEntry => ({ number: item[0], promptId: item[1] });
    return { running: data.queue_running.map(entry), pending: data.queue_pending.map(entry).sort((a, b) => a.number - b.number) };
  }

  /** The history entry of a prompt, or undefined while it is unknown, pending or running (ComfyUI cannot tell). */
  async history(promptId: string): Promise<ComfyHistoryEntry | undefined> {
    const data = await this.#json('GET', `/history/${encodeURIComponent(promptId)}`, historySchema);
    return data[promptId];
  }

  /** Whether the server has the jobs API (ComfyUI since Dec 2025); asked once. */
  async hasJobsApi(): Promise<boolean> {
    if (this.#jobsApi === undefined) {
      this.#jobsApi = isOk((await this.#exchange('GET', '/api/jobs?limit=1')).status);
    }
    return this.#jobsApi;
  }

  /** A job from `/api/jobs/{id}`: undefined when the server does not know it (404). Needs the jobs API. */
  async job(promptId: string): Promise<ComfyJob | undefined> {
    const answer = await this.#exchange('GET', `/api/jobs/${encodeURIComponent(promptId)}`);
    if (answer.status === 404) return undefined;
    return this.#parse(answer, jobSchema, '/api/jobs');
  }

  /** Interrupts the prompt if it is the running one; without an id, whatever runs. */
  async interrupt(promptId?: string): Promise<void> {
    await this.#ok('POST', '/interrupt', promptId ? JSON.stringify({ prompt_id: promptId }) : undefined);
  }

  /** Removes pending prompts from the queue (running ones are not affected). */
  async deleteQueued(promptIds: string[]): Promise<void> {
    await this.#ok('POST', '/queue', JSON.stringify({ delete: promptIds }));
  }

  /** Streams an output file; NOT_FOUND when ComfyUI has no such file. */
  async view(file: ComfyFileRef): Promise<ViewResult> {
    const query = new URLSearchParams({ filename: file.filename, type: file.type, subfolder: file.subfolder });
    const path = `/view?${query}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#request('GET', path);
    } catch (cause) {
      throw this.#unreachable(cause, path);
    }
    if (!isOk(res.statusCode)) {
      await res.body.dump();
      if (res.statusCode === 404) throw new ComfyVastError('NOT_FOUND', `ComfyUI has no file ${file.filename}`, { details: { filename: file.filename } });
      throw this.#statusError(res.statusCode, '/view');
    }
    const type = res.headers['content-type'];
    const length = res.headers['content-length'];
    return {
      stream: res.body,
      contentType: typeof type === 'string' ? type : 'application/octet-stream',
      contentLength: typeof length === 'string' ? Number(length) : undefined,
    };
  }

  /** Uploads an input image; the returned `subfolder/name` is what LoadImage takes. */
  async uploadImage(data: Buffer | Uint8Array, filename: string, options: { subfolder?: string; type?: 'input' | 'temp'; overwrite?: boolean } = {}): Promise<z.infer<typeof uploadResponseSchema>> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(data)]), filename);
    form.append('type', options.type ?? 'input');
    if (options.subfolder) form.append('subfolder', options.subfolder);
    if (options.overwrite) form.append('overwrite', 'true');
    return this.#parse(await this.#exchange('POST', '/upload/image', form), uploadResponseSchema, '/upload/image');
  }

  async #json<S extends z.ZodType>(method: Method, path: string, schema: S): Promise<z.infer<S>> {
    return this.#parse(await this.#exchange(method, path), schema, path);
  }

  async #ok(method: Method, path: string, body?: string): Promise<void> {
    const answer = await this.#exchange(method, path, body);
    if (!isOk(answer.status)) throw this.#statusError(answer.status, path);
  }

  #parse<S extends z.ZodType>(answer: Answer, schema: S, path: string): z.infer<S> {
    if (!isOk(answer.status)) throw this.#statusError(answer.status, path);
    const parsed = schema.safeParse(readJson(answer.text));
    if (!parsed.success) throw new ComfyVastError('COMFY_CONNECTION_FAILED', `Unexpected answer from ComfyUI ${path}`, { details: { path } });
    return parsed.data;
  }

  #statusError(status: number, path: string): ComfyVastError {
    const reason = status === 401 || status === 403 ? 'refused our credentials' : `answered ${status}`;
    return new ComfyVastError('COMFY_CONNECTION_FAILED', `ComfyUI ${reason} on ${path}`, { details: { path, status } });
  }

  #unreachable(cause: unknown, path: string): ComfyVastError {
    return new ComfyVastError('COMFY_CONNECTION_FAILED', `Cannot reach ComfyUI at ${this.url}`, { cause, details: { path } });
  }

  /** One request with its answer read whole, both within the limit on the clock; a timeout aborts and frees the socket. */
  async #exchange(method: Method, path: string, body?: string | FormData): Promise<Answer> {
    try {
      return await withTimeout(this.#clock, this.#timeoutMs, async (signal) => {
        const res = await this.#request(method, path, body, signal);
        return { status: res.statusCode, text: await res.body.text() };
      });
    } catch (cause) {
      throw this.#unreachable(cause, path);
    }
  }

  #request(method: Method, path: string, body?: string | FormData, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...this.#auth };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    return request(`${this.url}${path}`, { method, headers, body, signal, dispatcher: this.#dispatcher });
  }
}

/** The JSON in a body, or undefined when there is none: the schema then reports the answer as unexpected. */
function readJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

