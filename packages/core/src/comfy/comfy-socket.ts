import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import WebSocket from 'ws';
import { ComfyVastError } from '../errors/index.js';
import { silentLogger, systemClock, type Clock, type Logger, type TimerHandle } from '../util/index.js';
import { comfyAuthHeaders } from './auth.js';
import { decodeBinaryFrame, toDataUrl } from './binary.js';
import { wsMessageSchema, type ComfyWsMessage } from './schemas.js';

export interface ComfySocketOptions {
  /** Base URL of the ComfyUI (http or https); the socket goes to `/ws` on it. */
  url: string;
  token?: string;
  /** `user:password` of a basic-auth proxy in front of the ComfyUI; sent instead of the token's header. */
  basicAuth?: string;
  /** Our client id; ComfyUI sends a prompt's events only to the socket of the id that submitted it. */
  clientId?: string;
  clock?: Clock;
  logger?: Logger;
  /** Reconnect delays: doubling from `initialMs` up to `maxMs`, each jittered to 50–100 %. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Randomness for the jitter, in [0, 1). */
  random?: () => number;
}

export interface ComfyPreview {
  promptId: string | undefined;
  nodeId: string | undefined;
  mime: string;
  dataUrl: string;
}

export interface ComfySocketEvents {
  /** The server greeted us; `reconnected` is true after a gap, when events may have been lost. */
  open: (info: { reconnected: boolean }) => void;
  /** The connection dropped; a reconnect is scheduled. */
  close: (info: { code: number }) => void;
  message: (message: ComfyWsMessage) => void;
  preview: (preview: ComfyPreview) => void;
  text: (text: { nodeId: string; text: string }) => void;
}

/**
 * The one long-lived socket we keep to a ComfyUI. It reconnects with jittered backoff on the injected clock,
 * always with the same client id and only after the previous socket has closed: ComfyUI unregisters a client
 * id when an old socket of that id closes, which would silence the new one (ComfyUI #16010).
 */
export class ComfySocket extends EventEmitter<ComfySocketEvents> {
  readonly clientId: string;
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #auth: Record<string, string>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #ws: WebSocket | null = null;
  #open = false;
  #everOpened = false;
  #closedByUs = false;
  #attempt = 0;
  #timer: TimerHandle | null = null;
  /** Where type-1 previews belong: they carry no ids, so they go with the last `executing`. */
  #current: { promptId?: string; node?: string } = {};

  constructor(options: ComfySocketOptions) {
    super();
    this.clientId = options.clientId ?? randomUUID().replaceAll('-', '');
    this.#url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#auth = comfyAuthHeaders(options);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#initialMs = options.backoff?.initialMs ?? 500;
    this.#maxMs = options.backoff?.maxMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  get connected(): boolean {
    return this.#open;
  }

  /** Opens the socket; rejects with COMFY_CONNECTION_FAILED when the first attempt fails. */
  connect(): Promise<void> {
    this.#closedByUs = false;
    return this.#connectOnce();
  }

  /** Closes the current socket, waits until it is gone, then opens a new one (used when it looks stalled). */
  async reconnect(): Promise<void> {
    await this.#closeCurrent();
    if (this.#closedByUs) return;
    this.#cancelTimer();
    await this.#connectOnce().catch(() => this.#scheduleReconnect());
  }

  async close(): Promise<void> {
    this.#closedByUs = true;
    this.#cancelTimer();
    await this.#closeCurrent();
  }

  #connectOnce(): Promise<void> {
    const query = new URLSearchParams({ clientId: this.clientId });
    if (this.#token) query.set('token', this.#token);
    const wsUrl = `${this.#url.replace(/^http/, 'ws')}/ws?${query}`;
    const headers = this.#auth;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers });
      this.#ws = ws;
      let greeted = false;
      ws.on('message', (data, isBinary) => {
        if (isBinary) return this.#onBinary(data as Buffer);
        const msg = this.#parse(String(data));
        if (!msg) return;
        if (!greeted && msg.type === 'status') {
          greeted = true;
          const reconnected = this.#everOpened;
          this.#open = true;
          this.#everOpened = true;
          this.#attempt = 0;
          resolve();
          this.emit('open', { reconnected });
        }
        this.#track(msg);
        this.emit('message', msg);
      });
      ws.on('error', (err) => {
        this.#logger.debug({ err: err.message, url: this.#url }, 'ComfyUI socket error');
        if (!greeted) reject(new ComfyVastError('COMFY_CONNECTION_FAILED', `Cannot open the ComfyUI socket at ${this.#url}`, { cause: err }));
      });
      ws.on('close', (code) => {
        if (this.#ws === ws) this.#ws = null;
        const wasOpen = greeted;
        this.#open = false;
        if (!greeted) reject(new ComfyVastError('COMFY_CONNECTION_FAILED', `The ComfyUI socket at ${this.#url} closed before it opened`));
        if (this.#closedByUs) return;
        if (wasOpen) this.emit('close', { code });
        if (wasOpen) this.#scheduleReconnect();
      });
    });
  }

  #scheduleReconnect(): void {
    if (this.#closedByUs || this.#timer) return;
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** this.#attempt);
    const delay = base * (0.5 + this.#random() / 2);
    this.#attempt++;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (this.#closedByUs) return;
      this.#connectOnce().catch(() => this.#scheduleReconnect());
    }, delay);
  }

  #cancelTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #closeCurrent(): Promise<void> {
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close();
    await closed;
  }

  #parse(text: string): ComfyWsMessage | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = wsMessageSchema.safeParse(raw);
    // Unknown types (feature_flags, logs, extensions' messages) are not ours to handle.
    return parsed.success ? parsed.data : undefined;
  }

  #track(msg: ComfyWsMessage): void {
    if (msg.type !== 'executing') return;
    if (msg.data.node === null) this.#current = {};
    else this.#current = { promptId: msg.data.prompt_id ?? this.#current.promptId, node: msg.data.node };
  }

  #onBinary(data: Buffer): void {
    const frame = decodeBinaryFrame(data);
    if (frame.kind === 'preview') {
      this.emit('preview', {
        promptId: frame.promptId ?? this.#current.promptId,
        nodeId: frame.nodeId ?? this.#current.node,
        mime: frame.mime,
        dataUrl: toDataUrl(frame.mime, frame.image),
      });
    } else if (frame.kind === 'text') {
      this.emit('text', { nodeId: frame.nodeId, text: frame.text });
    }
  }
}
