import WebSocket from 'ws';

/** A test-side WebSocket that queues messages so a test can await them in order. */
export interface TestSocket {
  ws: WebSocket;
  next(match?: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  send(message: unknown): void;
  close(): void;
}

export function openSocket(url: string): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const queue: any[] = [];
    const waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      const i = waiters.findIndex((w) => w.match(m));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
      else queue.push(m);
    });
    const next = (match: (m: any) => boolean = () => true, timeoutMs = 20_000) => {
      const i = queue.findIndex(match);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no matching message in ${timeoutMs} ms; queued: ${JSON.stringify(queue).slice(0, 500)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), res(m)) });
      });
    };
    ws.once('open', () => resolve({ ws, next, send: (m) => ws.send(JSON.stringify(m)), close: () => ws.close() }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
