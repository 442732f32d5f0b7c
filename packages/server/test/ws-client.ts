import WebSocket from 'ws';
import { SocketEvent } from '../src/contract/index.js';

/**
 * A test-side WebSocket that queues messages so a test can await them in order. Every message the server sends is
 * checked against the contract: once one does not match, every `next()` rejects with what was wrong.
 */
export interface TestSocket {
  ws: WebSocket;
  next(match?: (m: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Sends the message as JSON; a string goes as it is, so a test can send what is not JSON. */
  send(message: unknown): void;
  close(): void;
}

export function openSocket(url: string, options: { headers?: Record<string, string> } = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: options.headers });
    const queue: any[] = [];
    const waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void }> = [];
    let mismatch: Error | null = null;
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      const checked = SocketEvent.safeParse(m);
      if (!checked.success && !mismatch) {
        mismatch = new Error(`the server sent a message outside the contract: ${JSON.stringify(m).slice(0, 300)}: ${checked.error.message}`);
        for (const w of waiters.splice(0)) w.reject(mismatch);
      }
      const i = waiters.findIndex((w) => w.match(m));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
      else queue.push(m);
    });
    const next = (match: (m: any) => boolean = () => true, timeoutMs = 20_000) => {
      if (mismatch) return Promise.reject(mismatch);
      const i = queue.findIndex(match);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no matching message in ${timeoutMs} ms; queued: ${JSON.stringify(queue).slice(0, 500)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), res(m)), reject: (e) => (clearTimeout(timer), rej(e)) });
      });
    };
    ws.once('open', () => resolve({ ws, next, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)), close: () => ws.close() }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
