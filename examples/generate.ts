/**
 * Generate images with the library alone: rent a (simulated) server, run the built-in SDXL workflow with live
 * progress, keep the images, delete the server.
 *
 *   npx tsx --conditions=source examples/generate.ts
 *
 * To rent for real, drop `startFakeVast` and pass `vast: { apiKey: process.env.VAST_API_KEY! }`.
 */
import { ComfyVast } from '@comfy-vast/core';
import { startFakeVast } from '@comfy-vast/testkit';

const USER = 1;
const simulation = await startFakeVast({ speed: 100 });
const comfyVast = await ComfyVast.open({ vast: { apiKey: simulation.apiKey, baseUrl: simulation.url, pollIntervalMs: 1_000 } });

async function waitFor<T>(what: string, check: () => T | undefined): Promise<T> {
  for (let i = 0; i < 240; i++) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen in time`);
}

try {
  const server = await comfyVast.createServer(USER, { name: 'generator', gpu: 'RTX 4090' });
  await waitFor('launch', () => {
    const s = comfyVast.getServer(USER, server.id);
    return s.status === 'running' && s.isLaunched ? s : undefined;
  });
  console.log(`server ${server.id} is running`);

  const done = new Promise<string[]>((resolve, reject) => {
    comfyVast.on('generation:event', (e) => {
      if (e.type === 'progress') console.log(`  ${Math.round(e.data.progress)}% ${e.data.currentNode ?? ''}`);
      else if (e.type === 'complete') resolve(e.data.images);
      else reject(new Error(`${e.data.error}: ${e.data.details ?? ''}`));
    });
  });
  const started = await comfyVast.generate(USER, server.id, { prompt: 'a lighthouse at dusk, oil painting', parameters: { steps: 20, seed: 7 } });
  console.log(`generation ${started.generationId} queued, about ${started.estimatedTime}`);

  const files = await done;
  for (const file of files) {
    const image = await comfyVast.getImage(USER, file);
    console.log(`image ${file} (${image.contentType}, ${image.size} bytes)`);
  }
  await comfyVast.deleteServer(USER, server.id);
} finally {
  await comfyVast.close();
  await simulation.close();
}
