import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '@comfy-vast/testkit';
import { ComfyVastError, GenerationService, ManualClock, MemoryStore, type GenerationEvent, type GenerationServiceOptions, type Logger, type Store } from '@comfy-vast/core';

export const USER = 1;
export const OTHER_USER = 2;
export const SERVER = 10;

export interface Harness {
  comfy: FakeComfy;
  store: Store;
  clock: ManualClock;
  dataDir: string;
  /** The servers `getComfyTarget` knows; `url` defaults to the fake ComfyUI's. */
  servers: Map<number, { userId: number; status: string; url?: string }>;
  service: GenerationService;
  events: GenerationEvent[];
  waiters: { match: (e: GenerationEvent) => boolean; resolve: (e: GenerationEvent) => void }[];
  /** A new service on the same store and data dir, as after a process restart. */
  restart(): Promise<GenerationService>;
  cleanup(): Promise<void>;
}

export async function harness(fake: FakeComfyOptions = {}, options: Partial<GenerationServiceOptions> = {}): Promise<Harness> {
  const comfy = await startFakeComfy({ timing: { speed: 50 }, ...fake });
  const store = new MemoryStore();
  const clock = new ManualClock(Date.parse('2026-01-01T12:00:00Z'));
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-gen-'));
  const servers: Harness['servers'] = new Map([[SERVER, { userId: USER, status: 'running' }]]);
  const targets = {
    async getComfyTarget(userId: number, serverId: number) {
      const s = servers.get(serverId);
      if (!s || s.userId !== userId) throw new ComfyVastError('SERVER_NOT_FOUND', `Server ${serverId} not found`);
      return { url: s.url ?? comfy.url, status: s.status };
    },
  };
  const services: GenerationService[] = [];
  const events: GenerationEvent[] = [];
  const waiters: Harness['waiters'] = [];
  const record = (e: GenerationEvent) => {
    events.push(e);
    for (const w of waiters.filter((x) => x.match(e))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  };
  const make = () => {
    const service = new GenerationService({ store, clock, dataDir, targets, random: () => 0.25, ...options });
    for (const type of ['progress', 'complete', 'error'] as const) service.on(type, record);
    services.push(service);
    return service;
  };
  const h: Harness = {
    comfy,
    store,
    clock,
    dataDir,
    servers,
    service: make(),
    events,
    waiters,
    async restart() {
      await h.service.close();
      h.service = make();
      await h.service.start();
      return h.service;
    },
    async cleanup() {
      for (const s of services) await s.close();
      await comfy.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Resolves with the first event of a generation that matches, already emitted or still to come, from any service. */
export function eventOf(h: Harness, generationId: number, type: GenerationEvent['type'], pred: (e: GenerationEvent) => boolean = () => true): Promise<GenerationEvent> {
  const match = (e: GenerationEvent) => e.generationId === generationId && e.type === type && pred(e);
  const seen = h.events.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => h.waiters.push({ match, resolve }));
}

/** A logger that keeps the messages of every line, to see what a service reported. */
export function messageLog(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger: Logger = {
    debug: (_o, msg) => void messages.push(msg ?? ''),
    info: (_o, msg) => void messages.push(msg ?? ''),
    warn: (_o, msg) => void messages.push(msg ?? ''),
    error: (_o, msg) => void messages.push(msg ?? ''),
    child: () => logger,
  };
  return { logger, messages };
}

export const request = (steps = 4, extra: Record<string, unknown> = {}) => ({
  prompt: 'a lighthouse at dusk',
  negativePrompt: 'blurry',
  parameters: { steps, width: 64, height: 64, seed: -1, ...extra },
});
