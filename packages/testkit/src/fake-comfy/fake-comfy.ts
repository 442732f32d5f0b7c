import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { listenOnLoopback } from '../listen.js';
import { DEFAULT_MODELS, type ModelFiles } from './catalog.js';
import { Engine } from './engine.js';
import { sendJson } from './http-util.js';
import { handle } from './routes.js';
import { SocketHub } from './socket-hub.js';
import type { FakeComfyFault, Timing } from './types.js';

export interface FakeComfyOptions {
  /** When set, HTTP needs `Authorization: Bearer <token>` and the socket `?token=<token>` (Vast's proxy). */
  token?: string;
  /** Port to listen on (default: ephemeral). */
  port?: number;
  /** Model files per folder; they fill the loaders' combos, so anything else fails with `value_not_in_list`. */
  models?: ModelFiles;
  /**
   * More model files, read on every listing (the files of a simulated server's disk): listed with `models`, in
   * `/models/<folder>`, `/embeddings` and the loaders' combos.
   */
  modelFiles?: () => ModelFiles;
  /** Time per node and per sampler step, and a speed factor (tests use a high one). */
  timing?: Partial<Timing>;
  /** Send sampler previews (as `--preview-method auto` does). Default true; `extra_data.preview_method: "none"` turns them off per prompt. */
  previews?: boolean;
  /** Serve `/api/jobs` and require UUID prompt ids, as ComfyUI since Dec 2025 does (default true). */
  jobsApi?: boolean;
  /** Faults for the next prompts, in order (see `FakeComfyFault`). */
  faults?: FakeComfyFault[];
  /** Keeps a log of the HTTP requests served, for `requests()` (off by default: a long-running fake would grow it). */
  logRequests?: boolean;
}

export interface FakeComfy {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** Makes the next prompt that starts running misbehave. */
  injectFault(fault: FakeComfyFault): void;
  /** Cuts the socket of one client id, or all sockets, without a close handshake. */
  dropSockets(clientId?: string): void;
  /** Replaces the files of one model folder. */
  setModels(folder: string, files: string[]): void;
  /** Prompts queued or running. */
  queueRemaining(): number;
  /** With `logRequests`, every HTTP request served so far (path without the query), oldest first; else none. */
  requests(): Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

const VERSION = '0.3.64';

/** Starts a fake ComfyUI on 127.0.0.1 that speaks the real HTTP and WebSocket protocol (see docs in this folder). */
export async function startFakeComfy(options: FakeComfyOptions = {}): Promise<FakeComfy> {
  const hub = new SocketHub();
  const timing: Timing = { nodeMs: 40, stepMs: 20, speed: 1, ...options.timing };
  const engine = new Engine(hub, timing, options.previews ?? true, structuredClone(options.models ?? DEFAULT_MODELS), options.modelFiles);
  for (const fault of options.faults ?? []) engine.injectFault(fault);
  const features = { supports_preview_metadata: true, max_upload_size: 104857600 };
  const routeOptions = { jobsApi: options.jobsApi ?? true, comfyuiVersion: VERSION, features };
  const authorized = (header: string | undefined, url: URL): boolean =>
    !options.token || header === `Bearer ${options.token}` || url.searchParams.get('token') === options.token;

  const requests: Array<{ method: string; path: string }> = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (options.logRequests) requests.push({ method: req.method ?? 'GET', path: url.pathname });
    if (!authorized(req.headers.authorization, url)) return sendJson(res, 401, { error: 'Unauthorized' });
    handle(engine, routeOptions, req, res, url)
      .then((matched) => {
        if (!matched) sendJson(res, 404, { error: 'Not Found' });
      })
      .catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!/^(\/api)?\/ws$/.test(url.pathname)) return void socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    if (!authorized(req.headers.authorization, url)) return void socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      hub.attach(ws, url.searchParams.get('clientId'), features, (sid) => {
        ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: engine.queueRemaining() } }, sid } }));
        // A client that owns the running prompt is told the current node, without prompt_id (reference §2.1).
        const running = engine.running;
        if (running?.item.clientId === sid && running.lastNode) ws.send(JSON.stringify({ type: 'executing', data: { node: running.lastNode } }));
      });
    });
  });
  const url = await listenOnLoopback(server, options.port);
  return {
    url,
    injectFault: (fault) => engine.injectFault(fault),
    dropSockets: (clientId) => hub.drop(clientId ?? null),
    setModels(folder, files) {
      engine.models[folder] = [...files];
      engine.invalidateObjectInfo();
    },
    queueRemaining: () => engine.queueRemaining(),
    requests: () => requests.slice(),
    async close() {
      engine.stop();
      hub.closeAll();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
