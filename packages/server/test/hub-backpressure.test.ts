import { DEFAULT_LIMITS, ManualClock, MemoryStore, SlidingWindowLimiter, UserService, silentLogger } from '@comfy-vast/core';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { SocketEvent } from '../src/contract/index.js';
import { WebSocketHub } from '../src/ws/hub.js';
import { serveHub } from './hub-server.js';

describe('a WebSocket client that does not keep up', () => {
  it('loses previews first and never the final event', async () => {
    const clock = new ManualClock(0);
    const users = new UserService({ store: new MemoryStore(), clock });
    const { user, token } = await users.createUser('slow');
    const apiLimiter = new SlidingWindowLimiter({ rules: DEFAULT_LIMITS.api, clock });
    const hub = new WebSocketHub({ users, logger: silentLogger, apiLimiter, clock, softBufferBytes: 64 * 1024, hardBufferBytes: 1024 ** 3 });
    hub.registerTopic('generationId', { subscribe: (userId) => (userId === user.id ? [] : null) });
    const served = await serveHub(hub, { users, apiLimiter, clock });

    const ws = new WebSocket(`${served.url}/api/ws?token=${token.token}`);
    const received: Array<{ type: string; seq?: number }> = [];
    ws.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', generationId: 7 }));
    for (let i = 0; i < 100 && hub.subscriberCount('generationId', 7) === 0; i++) await new Promise((r) => setTimeout(r, 10));

    // The client stops reading: the kernel's buffers fill, then the hub's queue grows.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const preview = 'x'.repeat(256 * 1024);
    const sent = 200;
    for (let seq = 1; seq <= sent; seq++) {
      hub.publish('generationId', 7, { type: 'progress', generationId: 7, seq, data: { status: 'executing', progress: seq / 2, currentNode: 'KSampler', previewImage: preview } }, { droppable: true });
      await new Promise((r) => setImmediate(r));
    }
    hub.publish('generationId', 7, { type: 'complete', generationId: 7, seq: sent + 1, data: { status: 'completed', imageUrls: [], executionTime: null } });
    expect(hub.stats.dropped).toBeGreaterThan(0);

    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    for (let i = 0; i < 500 && !received.some((m) => m.type === 'complete'); i++) await new Promise((r) => setTimeout(r, 10));
    const progress = received.filter((m) => m.type === 'progress');
    expect(received.at(-1)).toMatchObject({ type: 'complete', seq: sent + 1 });
    expect(progress.length).toBeLessThan(sent);
    expect(progress.length + hub.stats.dropped).toBe(sent);
    for (const message of received) expect(SocketEvent.safeParse(message).error).toBeUndefined();

    ws.close();
    await served.close();
  });
});
