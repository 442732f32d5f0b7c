import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { ComfyClient, ComfySocket, ManualClock, type ComfyPreview, type ComfyWsMessage } from '@comfy-vast/core';
import { nextEvent, sdxlPrompt } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
async function fake(): Promise<FakeComfy> {
  const comfy = await startFakeComfy({ timing: { speed: 50 } });
  cleanup.push(() => comfy.close());
  return comfy;
}
function socketFor(url: string, clock = new ManualClock()): ComfySocket {
  const socket = new ComfySocket({ url, clock, random: () => 0.5, backoff: { initialMs: 1000, maxMs: 8000 } });
  cleanup.push(() => socket.close());
  return socket;
}

describe('ComfySocket', () => {
  it('receives its prompt’s events and decodes previews to data URLs with their prompt and node', async () => {
    const comfy = await fake();
    const socket = socketFor(comfy.url);
    await socket.connect();
    const messages: ComfyWsMessage[] = [];
    const previews: ComfyPreview[] = [];
    socket.on('message', (m) => messages.push(m));
    socket.on('preview', (p) => previews.push(p));
    const { promptId } = await new ComfyClient({ url: comfy.url }).submit(sdxlPrompt(1, 3), { clientId: socket.clientId });
    await nextEvent<[ComfyWsMessage]>(socket, 'message', (m) => m.type === 'executing' && m.data.node === null);
    expect(messages.filter((m) => m.type === 'progress').map((m) => m.data.value)).toEqual([1, 2, 3]);
    expect(previews).toHaveLength(3);
    expect(previews[0]).toMatchObject({ promptId, nodeId: '3', mime: 'image/png' });
    expect(previews[0]!.dataUrl).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
  });

  it('reconnects with the same client id after a dropped connection, on the injected clock with backoff', async () => {
    const comfy = await fake();
    const clock = new ManualClock();
    const socket = socketFor(comfy.url, clock);
    await socket.connect();
    const closed = nextEvent(socket, 'close');
    comfy.dropSockets(socket.clientId);
    await closed;
    expect(socket.connected).toBe(false);
    expect(clock.pendingTimers).toBe(1);
    const reopened = nextEvent<[{ reconnected: boolean }]>(socket, 'open');
    await clock.advance(750); // 1000 ms jittered by random() = 0.5 → 75 %
    expect(await reopened).toEqual([{ reconnected: true }]);
    expect(socket.connected).toBe(true);
    // Same client id: events of a prompt submitted now come to the reconnected socket.
    const { promptId } = await new ComfyClient({ url: comfy.url }).submit(sdxlPrompt(2, 1), { clientId: socket.clientId });
    await nextEvent<[ComfyWsMessage]>(socket, 'message', (m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
  });

  it('reconnects on request only after the old socket has closed, keeping its client id registered', async () => {
    const comfy = await fake();
    const socket = socketFor(comfy.url);
    await socket.connect();
    const reopened = nextEvent<[{ reconnected: boolean }]>(socket, 'open');
    await socket.reconnect();
    expect(await reopened).toEqual([{ reconnected: true }]);
    // Had the old socket closed after the new one registered, ComfyUI would have dropped the client id (#16010).
    const { promptId } = await new ComfyClient({ url: comfy.url }).submit(sdxlPrompt(3, 1), { clientId: socket.clientId });
    await nextEvent<[ComfyWsMessage]>(socket, 'message', (m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
  });

  it('backs off further while the server stays away', async () => {
    const comfy = await fake();
    const clock = new ManualClock();
    const socket = socketFor(comfy.url, clock);
    await socket.connect();
    const closed = nextEvent(socket, 'close');
    await comfy.close();
    await closed;
    await clock.advance(750);
    await expect.poll(() => clock.pendingTimers).toBe(1);
    // Delays double (1000, 2000, 4000 ms), each × 75 % here: the third attempt is scheduled 3000 ms after the second.
    await clock.advance(1500);
    await expect.poll(() => clock.pendingTimers).toBe(1);
    await clock.advance(2999);
    expect(clock.pendingTimers).toBe(1);
    await socket.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('ignores message types it does not know', async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: 'x' } }));
      ws.send(JSON.stringify({ type: 'crystools.monitor', data: { cpu: 3 } }));
      ws.send(JSON.stringify({ type: 'execution_start', data: { prompt_id: 'p', timestamp: 1 } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    });
    const socket = socketFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const types: string[] = [];
    socket.on('message', (m) => types.push(m.type));
    const started = nextEvent<[ComfyWsMessage]>(socket, 'message', (m) => m.type === 'execution_start');
    await socket.connect();
    await started;
    expect(types).toEqual(['status', 'execution_start']);
  });
});
