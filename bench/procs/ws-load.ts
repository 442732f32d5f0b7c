/**
 * The WebSocket and generation load, in its own process: many sockets to the API (fan-out, idle connections),
 * generations submitted over HTTP and followed over a socket, and the fake ComfyUIs driven directly as their own
 * baseline. Times are wall clock (see wallMs), so they compare with the server process's.
 */
import { randomUUID } from 'node:crypto';
import { builtinPrompt, DEFAULT_WORKFLOW_ID, preparePrompt } from '@comfy-vast/core';
import WebSocket from 'ws';
import { serve, wallMs } from '../lib/serve.js';

const sockets: WebSocket[] = [];

const { ready } = serve({
  open: (a) => open(a as { url: string; token: string; count: number }),
  fanout: (a) => fanout(a as { generationId: number; previews: boolean }),
  subscribeLatency: (a) => subscribeLatency(a as { serverId: number; count: number }),
  generate: (a) => generate(a as unknown as GenerateArgs),
  comfyDirect: (a) => comfyDirect(a as unknown as DirectArgs),
  closeAll: () => closeAll(),
  exit: () => closeAll(),
});
ready();

/** Opens `count` authenticated sockets, `batch` upgrades in flight at a time, each waiting for `ready`. */
async function open({ url, token, count }: { url: string; token: string; count: number }): Promise<number> {
  const wsUrl = `${url.replace('http', 'ws')}/api/ws?token=${token}`;
  const batch = 100;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const opened = await Promise.all(
      Array.from({ length: n }, () => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
        ws.once('message', () => resolve(ws));
        ws.once('error', reject);
      })),
    );
    sockets.push(...opened);
  }
  return sockets.length;
}

async function closeAll(): Promise<void> {
  await Promise.all(sockets.splice(0).map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.terminate();
  })));
}

/**
 * Every open socket subscribes to one generation; returns, per event seq, when the last socket received it, how
 * many preview images the sockets got, and the mean size of an event as the first socket received them.
 */
async function fanout({ generationId, previews }: { generationId: number; previews: boolean }): Promise<{ last: Record<number, number>; previewsSeen: number; subscribers: number; eventBytes: number }> {
  const last: Record<number, number> = {};
  let completed = 0;
  let previewsSeen = 0;
  const first = { bytes: 0, events: 0 };
  await new Promise<void>((resolve, reject) => {
    for (const ws of sockets) {
      const onMessage = (data: WebSocket.RawData) => {
        const at = wallMs();
        const m = JSON.parse(String(data)) as { type: string; seq?: number; data?: { previewImage?: string | null } };
        if (m.type === 'error' && m.seq === undefined) reject(new Error(String(data)));
        if (m.seq === undefined) return;
        if (ws === sockets[0]) {
          first.bytes += (data as Buffer).length;
          first.events++;
        }
        last[m.seq] = Math.max(last[m.seq] ?? 0, at);
        if (m.data?.previewImage) previewsSeen++;
        if (m.type === 'complete' || m.type === 'error') {
          ws.off('message', onMessage);
          if (++completed === sockets.length) resolve();
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'subscribe', generationId, previews }));
    }
  });
  return { last, previewsSeen, subscribers: sockets.length, eventBytes: first.bytes / first.events };
}

/** Round trips of subscribe and unsubscribe to one server, one at a time on the last socket, while the others idle. */
async function subscribeLatency({ serverId, count }: { serverId: number; count: number }): Promise<number[]> {
  const ws = sockets.at(-1)!;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = wallMs();
    await new Promise<void>((resolve, reject) => {
      const onMessage = (data: WebSocket.RawData) => {
        const m = JSON.parse(String(data)) as { type: string };
        if (m.type === 'error') reject(new Error(String(data)));
        if (m.type !== 'subscribed') return;
        ws.off('message', onMessage);
        resolve();
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'subscribe', serverId }));
    });
    times.push(wallMs() - started);
    ws.send(JSON.stringify({ type: 'unsubscribe', serverId }));
  }
  return times;
}

interface GenerateArgs {
  url: string;
  token: string;
  serverIds: number[];
  total: number;
  steps: number;
  size: number;
}

/**
 * Submits `total` generations round-robin over the servers (all at once, as a batch job would), follows each on
 * one socket, and waits for every one to end. Returns the wall time from the first submit to the last end.
 */
async function generate(a: GenerateArgs): Promise<{ seconds: number; completed: number; failed: number; submitMs: number[] }> {
  const ws = new WebSocket(`${a.url.replace('http', 'ws')}/api/ws?token=${a.token}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => (ws.once('message', resolve), ws.once('error', reject)));
  let completed = 0;
  let failed = 0;
  let allEnded!: () => void;
  const ended = new Promise<void>((resolve) => (allEnded = resolve));
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; seq?: number };
    if (m.seq === undefined) return;
    if (m.type === 'complete') completed++;
    else if (m.type === 'error') failed++;
    else return;
    if (completed + failed === a.total) allEnded();
  });
  const started = wallMs();
  const submitMs: number[] = [];
  await Promise.all(
    Array.from({ length: a.total }, async (_, i) => {
      const t = wallMs();
      const res = await fetch(`${a.url}/api/comfy/${a.serverIds[i % a.serverIds.length]}/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `bench ${i}`, parameters: { steps: a.steps, width: a.size, height: a.size } }),
      });
      const body = (await res.json()) as { generationId?: number };
      if (!res.ok || body.generationId === undefined) throw new Error(`generate answered ${res.status}: ${JSON.stringify(body)}`);
      submitMs.push(wallMs() - t);
      ws.send(JSON.stringify({ type: 'subscribe', generationId: body.generationId }));
    }),
  );
  await ended;
  const seconds = (wallMs() - started) / 1000;
  ws.close();
  return { seconds, completed, failed, submitMs };
}

interface DirectArgs {
  urls: string[];
  total: number;
  steps: number;
  size: number;
}

/** The fakes' own limit: the same prompts submitted straight to them, all at once, counted as ComfyUI reports them done. */
async function comfyDirect(a: DirectArgs): Promise<{ seconds: number; completed: number }> {
  const clientId = randomUUID();
  const conns = await Promise.all(
    a.urls.map((url) => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?clientId=${clientId}`, { perMessageDeflate: false });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    })),
  );
  let completed = 0;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  for (const ws of conns) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(String(data)) as { type: string };
      if (m.type === 'execution_success' && ++completed === a.total) allDone();
    });
  }
  const workflow = builtinPrompt(DEFAULT_WORKFLOW_ID)!;
  const started = wallMs();
  await Promise.all(
    Array.from({ length: a.total }, async (_, i) => {
      const { prompt } = preparePrompt(workflow, { prompt: `bench ${i}`, parameters: { steps: a.steps, width: a.size, height: a.size } }, Math.random);
      const res = await fetch(`${a.urls[i % a.urls.length]}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, client_id: clientId, prompt_id: randomUUID() }),
      });
      if (!res.ok) throw new Error(`ComfyUI answered ${res.status}: ${await res.text()}`);
    }),
  );
  await done;
  const seconds = (wallMs() - started) / 1000;
  for (const ws of conns) ws.close();
  return { seconds, completed };
}
