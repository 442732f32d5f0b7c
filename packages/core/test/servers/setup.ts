import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { ManualClock, MemoryStore, ServerService, VastClient, type ServerServiceOptions } from '@comfy-vast/core';
import { captureLogger, NO_SPACING } from '../vast/helpers.js';

export interface World {
  fake: FakeVast;
  clock: ManualClock;
  store: MemoryStore;
  service: ServerService;
  log: ReturnType<typeof captureLogger>;
  close(): Promise<void>;
}

/** A fake Vast.ai sharing a manual clock with a ServerService over a memory store. */
export async function world(options: Partial<ServerServiceOptions> = {}): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const log = captureLogger();
  const fake = await startFakeVast({ now: () => clock.now(), intervalsMs: NO_SPACING });
  const vast = new VastClient({ apiKey: fake.apiKey, baseUrl: fake.url, clock, logger: log.logger, minIntervalsMs: NO_SPACING });
  const store = new MemoryStore();
  const service = new ServerService({ store, vast, clock, logger: log.logger, pollIntervalMs: 10_000, ...options });
  const w: World = {
    fake,
    clock,
    store,
    service,
    log,
    async close() {
      service.stopReconciler();
      // A test may have put another fake in its place.
      await w.fake.close();
    },
  };
  return w;
}

export const RTX = { name: 'Render box', gpu: 'RTX 4090', gpuCount: 1, cpuCores: 8, ram: 32, disk: 40 };
