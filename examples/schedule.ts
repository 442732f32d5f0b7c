/**
 * Office hours for a GPU server: started at 09:00 and stopped at 18:00 New York time on weekdays, and stopped
 * whenever it has sat unused for 30 minutes, so nobody pays for a GPU overnight. It shows the schedule as
 * `GET /api/server-scheduler/:id` answers it and the actions of the coming week.
 *
 * It runs against the simulated provider (a fake Vast.ai on loopback, nothing rented or billed). To rent for real,
 * drop `startFakeVast` and pass `vast: { apiKey: process.env.VAST_API_KEY! }` instead.
 *
 *   npx tsx --conditions=source examples/schedule.ts
 */
import { ComfyVast, nextAction } from '@comfy-vast/core';
import { startFakeVast } from '@comfy-vast/testkit';

const USER = 1;
const simulation = await startFakeVast({ speed: 100 });
const comfyVast = await ComfyVast.open({ vast: { apiKey: simulation.apiKey, baseUrl: simulation.url, pollIntervalMs: 1_000 } });
const newYork = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

try {
  const created = await comfyVast.createServer(USER, { name: 'office-hours', gpu: 'RTX 4090' });

  // The two halves, as `POST /api/server-scheduler/:id/start` and `/stop` take them; each merges into the schedule.
  await comfyVast.updateSchedule(USER, created.id, 'start', { schedule: { autoStart: true, startTime: '09:00', timezone: 'America/New_York', weekdays: [1, 2, 3, 4, 5] } });
  const view = await comfyVast.updateSchedule(USER, created.id, 'stop', { schedule: { autoStop: true, stopTime: '18:00', idleStopMinutes: 30 } });
  console.log(JSON.stringify(view, null, 2));

  console.log('The coming week:');
  let after = comfyVast.clock.now();
  for (let i = 0; i < 10; i++) {
    const next = nextAction(view.schedule, after);
    if (!next) break;
    console.log(`  ${next.action.padEnd(5)} ${new Date(next.at).toISOString()}  (${newYork.format(next.at)} in New York)`);
    after = next.at;
  }

  // Idle stop counts from the last sign of use: the server starting, a generation, a client watching one.
  for (let i = 0; i < 120 && comfyVast.getServer(USER, created.id).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 250));
  const idleAt = comfyVast.getServer(USER, created.id).idleStopAt;
  console.log(`Left unused, the running server stops at ${idleAt ?? 'never'}`);
  if (idleAt === null) throw new Error('idle stop should be planned for a running server');

  await comfyVast.deleteServer(USER, created.id);
} finally {
  await comfyVast.close();
  await simulation.close();
}
