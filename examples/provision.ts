/**
 * Rent a GPU server, wait until ComfyUI answers, stop it, start it again and delete it, with the library alone.
 *
 * It runs against the simulated provider (a fake Vast.ai on loopback, nothing rented or billed). To rent for real,
 * drop `startFakeVast` and pass `vast: { apiKey: process.env.VAST_API_KEY! }` instead.
 *
 *   npx tsx --conditions=source examples/provision.ts
 */
import { ComfyVast, type ServerView } from '@comfy-vast/core';
import { startFakeVast } from '@comfy-vast/testkit';

const USER = 1;

// Speed 100: a 30 s image load takes 0.3 s.
const simulation = await startFakeVast({ speed: 100 });
const comfyVast = await ComfyVast.open({ vast: { apiKey: simulation.apiKey, baseUrl: simulation.url, pollIntervalMs: 1_000 } });

comfyVast.on('server:status', ({ server, previous }) => console.log(`  ${server.name}: ${previous} -> ${server.status}`));

async function until(id: number, done: (s: ServerView) => boolean): Promise<ServerView> {
  for (let i = 0; i < 120; i++) {
    const server = comfyVast.listServers(USER).find((s) => s.id === id);
    if (server && done(server)) return server;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Server ${id} did not get there in time`);
}

try {
  const wanted = { gpu: 'RTX 4090', gpuCount: 1, cpuCores: 8, ram: 32, disk: 100, location: 'US' };
  const offers = await comfyVast.findOffers(wanted);
  console.log(`${offers.length} RTX 4090 offers in the US, cheapest ${offers[0]?.pricePerHour.toFixed(2)} $/h`);

  const created = await comfyVast.createServer(USER, { name: 'GPU Server 1', ...wanted });
  console.log(`Rented Vast instance ${created.vastId} at ${created.pricePerHour.toFixed(2)} $/h (${created.status})`);

  const ready = await until(created.id, (s) => s.status === 'running' && s.isLaunched);
  console.log(`ComfyUI is up at ${ready.comfyUrl}`);

  console.log(`Stopping: ${(await comfyVast.stopServer(USER, created.id)).status}`);
  const stopped = await until(created.id, (s) => s.status === 'stopped');
  console.log(`Stopped; spent so far $${stopped.costSoFar.toFixed(4)} (the disk keeps billing until delete)`);

  console.log(`Starting: ${(await comfyVast.startServer(USER, created.id)).status}`);
  await until(created.id, (s) => s.status === 'running' && s.isLaunched);

  await comfyVast.deleteServer(USER, created.id);
  console.log(`Servers left: ${comfyVast.listServers(USER).length}`);
} finally {
  await comfyVast.close();
  await simulation.close();
}
