/**
 * The scheduler runner with 10,000 scheduled servers: the one timer, the time to replan every server (after a
 * restart or a clock jump; target under 50 ms) and to replan after one schedule changes, against a baseline that
 * computes each next action without the runner's shared time-zone memo.
 */
import { performance } from 'node:perf_hooks';
import {
  ManualClock,
  MemoryStore,
  ScheduleService,
  SchedulerRunner,
  TimeZones,
  nextAction,
  type ScheduleTarget,
  type ServerInfo,
} from '@comfy-vast/core';

const SERVERS = 10_000;
const ROUNDS = 20;
const ZONES = ['America/New_York', 'America/Los_Angeles', 'Europe/Berlin', 'Europe/London', 'Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney', 'Australia/Lord_Howe', 'UTC'];
const WEEKDAY_SETS = [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6, 7], [6, 7], [1, 3, 5]];

const pad = (n: number) => String(n).padStart(2, '0');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall time, and the process's CPU time, which stays meaningful on a machine busy with other work. */
function time(fn: () => void): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Servers that are all stopped and never change: the bench measures planning, not actions. */
function target(servers: ServerInfo[]): ScheduleTarget {
  const byId = new Map(servers.map((s) => [s.id, s]));
  const idle = { queued: 0, running: 0, setup: false, downloads: 0, subscribers: 0, lastActivityAt: 0 };
  return {
    listServers: () => servers,
    getServer: (id) => byId.get(id),
    start: async () => {},
    stop: async () => {},
    activity: () => idle,
  };
}

export async function run(): Promise<void> {
  const now = Date.parse('2026-10-30T12:00:00Z');
  const clock = new ManualClock(now);
  const store = new MemoryStore();
  const servers: ServerInfo[] = Array.from({ length: SERVERS }, (_, i) => ({ id: i + 1, name: `gpu-${i + 1}`, status: 'stopped', userId: i % 50 }));
  const schedules = new ScheduleService({ store, clock });
  // Start and stop times on the quarter hour, as people pick them; zones and day sets spread over the fleet.
  for (const server of servers) {
    const i = server.id;
    await schedules.update(server, 'start', {
      schedule: { autoStart: true, startTime: `${pad(6 + (i % 6))}:${pad((i % 4) * 15)}`, timezone: ZONES[i % ZONES.length], weekdays: WEEKDAY_SETS[i % WEEKDAY_SETS.length] },
    });
    await schedules.update(server, 'stop', { schedule: { autoStop: true, stopTime: `${pad(16 + (i % 8))}:${pad((i % 3) * 15)}`, idleStopMinutes: 30 + (i % 60) } });
  }
  await store.setValue('scheduler.checkpoint', now);
  const runner = new SchedulerRunner({ target: target(servers), schedules, store, clock });
  await runner.start();

  const full = Array.from({ length: ROUNDS }, () => time(() => runner.refresh()));
  const one = Array.from({ length: ROUNDS * 10 }, (_, k) => time(() => runner.serverChanged((k * 97) % SERVERS + 1)));
  const entries = schedules.entries();
  // One run: it is 10,000 plannings long (seconds), which is stable enough on its own.
  const baseline = Array.from({ length: 1 }, () => time(() => {
    for (const e of entries) nextAction(e.schedule, now, new TimeZones());
  }));

  const fullMs = median(full.map((t) => t.wall));
  const fullCpuMs = median(full.map((t) => t.cpu));
  console.log(`servers: ${SERVERS}, pending timers: ${clock.pendingTimers}, next wake: ${new Date(runner.nextWakeAt!).toISOString()}`);
  console.log(`replan all: ${fullMs.toFixed(1)} ms wall, ${fullCpuMs.toFixed(1)} ms CPU, median of ${ROUNDS} (target < 50 ms: ${fullMs < 50 ? 'met' : 'missed'})`);
  console.log(`replan after one change: ${(median(one.map((t) => t.wall)) * 1000).toFixed(0)} µs median`);
  const baselineMs = median(baseline.map((t) => t.wall));
  console.log(`baseline (next action per server, no shared zone memo): ${baselineMs.toFixed(0)} ms, ${(baselineMs / fullMs).toFixed(1)}x the runner`);
  runner.close();
}
