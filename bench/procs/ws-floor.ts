/**
 * The fan-out floor: a bare `ws` server doing only what a fan-out cannot skip. Each event is serialised once and the
 * one buffer is sent to every subscribed socket as a text frame, as the hub does, with nothing of this project
 * around it. The hub's figures above these are this project's; these are ws's, Node's and the kernel's.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serve, wallMs } from '../lib/serve.js';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const subscribed: WebSocket[] = [];
server.on('connection', (ws) => {
  ws.send('{"type":"ready"}');
  ws.on('message', () => subscribed.push(ws));
});

const { ready } = serve({
  url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  subscribers: () => subscribed.length,
  broadcast: (a) => broadcast(a as { events: number; intervalMs: number; bytes: number }),
  exit: () => new Promise<void>((resolve) => {
    for (const ws of server.clients) ws.terminate();
    server.close(() => resolve());
  }),
});
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
ready();

/**
 * Sends `events` events of about `bytes` bytes each, `intervalMs` apart, the last a `complete`; returns when each
 * began and when its last socket write returned, by seq (wall clock, as the API server's `published`).
 */
async function broadcast({ events, intervalMs, bytes }: { events: number; intervalMs: number; bytes: number }): Promise<Record<number, [number, number]>> {
  const published: Record<number, [number, number]> = {};
  for (let seq = 1; seq <= events; seq++) {
    const start = wallMs();
    const type = seq === events ? 'complete' : 'progress';
    const event = { type, generationId: 1, seq, data: { step: seq, totalSteps: events, fill: '' } };
    event.data.fill = 'x'.repeat(Math.max(0, bytes - JSON.stringify(event).length));
    const frame = Buffer.from(JSON.stringify(event));
    for (const ws of subscribed) ws.send(frame, { binary: false });
    published[seq] = [start, wallMs()];
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  subscribed.length = 0;
  return published;
}
