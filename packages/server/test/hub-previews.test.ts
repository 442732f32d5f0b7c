import { DEFAULT_LIMITS, ManualClock, MemoryStore, SlidingWindowLimiter, UserService, silentLogger } from '@comfy-vast/core';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { SocketEvent } from '../src/contract/index.js';
import { WebSocketHub, type SubscribeOptions } from '../src/ws/hub.js';
import { serveHub } from './hub-server.js';

type Progress = Extract<SocketEvent, { type: 'progress' }>;

const progress = (seq: number, previewImage: string | null): Progress => ({
  type: 'progress',
  generationId: 7,
  seq,
  data: { status: 'executing', progress: 50, currentNode: 'KSampler', previewImage },
});

describe('previews on the WebSocket', () => {
  it('go to subscribers that want them; the others get the event without its image, or nothing', async () => {
    const clock = new ManualClock(0);
    const users = new UserService({ store: new MemoryStore(), clock });
    const { user, token } = await users.createUser('viewer');
    const apiLimiter = new SlidingWindowLimiter({ rules: DEFAULT_LIMITS.api, clock });
    const hub = new WebSocketHub({ users, logger: silentLogger, apiLimiter, clock });
    const asked: SubscribeOptions[] = [];
    hub.registerTopic('generationId', {
      subscribe: (userId, _id, _since, options) => {
        asked.push(options!);
        return userId === user.id ? [] : null;
      },
    });
    const served = await serveHub(hub, { users, apiLimiter, clock });
    const connect = async (subscribe: Record<string, unknown>) => {
      const ws = new WebSocket(`${served.url}/api/ws?token=${token.token}`);
      const received: SocketEvent[] = [];
      ws.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(SocketEvent.parse(JSON.parse(String(data))));
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'subscribe', generationId: 7, ...subscribe }));
      return { ws, received };
    };
    const viewer = await connect({});
    const plain = await connect({ previews: false });
    for (let i = 0; i < 100 && hub.subscriberCount('generationId', 7) < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(asked).toEqual([{ previews: true }, { previews: false }]);

    // A step with an image, then an event that only brings a new image, then the end.
    hub.publish('generationId', 7, progress(1, 'data:image/png;base64,AAAA'), { droppable: true, withoutPreviews: progress(1, null) });
    hub.publish('generationId', 7, progress(2, 'data:image/png;base64,BBBB'), { droppable: true, withoutPreviews: null });
    hub.publish('generationId', 7, { type: 'complete', generationId: 7, seq: 3, data: { status: 'completed', imageUrls: [], executionTime: 1 } });
    const ended = (r: { received: SocketEvent[] }) => r.received.some((m) => m.type === 'complete');
    for (let i = 0; i < 200 && !(ended(viewer) && ended(plain)); i++) await new Promise((r) => setTimeout(r, 10));

    const events = (r: { received: SocketEvent[] }) => r.received.filter((m) => m.type !== 'subscribed' && m.type !== 'ready');
    expect(events(viewer)).toEqual([progress(1, 'data:image/png;base64,AAAA'), progress(2, 'data:image/png;base64,BBBB'), expect.objectContaining({ type: 'complete', seq: 3 })]);
    expect(events(plain)).toEqual([progress(1, null), expect.objectContaining({ type: 'complete', seq: 3 })]);

    viewer.ws.close();
    plain.ws.close();
    await served.close();
  });
});
