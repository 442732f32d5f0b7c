import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeComfyOptions {
  /** When set, HTTP needs `Authorization: Bearer <token>` and the socket `?token=<token>` (Vast's proxy). */
  token?: string;
}

export interface FakeComfy {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

/** Starts a fake ComfyUI on 127.0.0.1 with an ephemeral port. */
export async function startFakeComfy(options: FakeComfyOptions = {}): Promise<FakeComfy> {
  const sockets = new Map<string, WebSocket>();
  const authorized = (req: IncomingMessage, url: URL): boolean =>
    !options.token ||
    req.headers.authorization === `Bearer ${options.token}` ||
    url.searchParams.get('token') === options.token;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!authorized(req, url)) return send(res, 401, { error: 'Unauthorized' });
    const path = url.pathname.replace(/^\/api(?=\/)/, '');
    if (req.method === 'GET' && path === '/system_stats') {
      return send(res, 200, { system: { os: 'posix', comfyui_version: '0.3.64' }, devices: [] });
    }
    if (req.method === 'GET' && path === '/queue') return send(res, 200, { queue_running: [], queue_pending: [] });
    return send(res, 404, { error: 'Not Found' });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!/^(\/api)?\/ws$/.test(url.pathname) || !authorized(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = url.searchParams.get('clientId') ?? randomUUID().replaceAll('-', '');
      sockets.set(sid, ws);
      ws.on('close', () => {
        if (sockets.get(sid) === ws) sockets.delete(sid);
      });
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
