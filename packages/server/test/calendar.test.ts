import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli-process.js';

// The server started on days that put timers past what one Node timer holds (the month's end more than 24.8 days
// away), on short months and across daylight-saving changes, under libfaketime.
const DAYS = [
  '2027-01-01 00:00:05', // 31-day month, first day
  '2027-01-28 12:00:00',
  '2026-11-01 06:30:00', // 30-day month, the US leaves daylight-saving time
  '2026-11-28 00:00:00',
  '2027-02-01 00:00:00', // 28-day month
  '2027-02-28 23:59:00',
  '2027-03-14 09:59:00', // the US enters daylight-saving time
  '2027-03-28 00:59:00', // Europe enters daylight-saving time
];

/** Debian's libfaketime (package faketime), preloaded into the server process itself so that signals reach it. */
async function libfaketime(): Promise<string | undefined> {
  for (const arch of await readdir('/usr/lib')) {
    const lib = join('/usr/lib', arch, 'faketime', 'libfaketime.so.1');
    if (existsSync(lib)) return lib;
  }
  return undefined;
}

let dataRoot: string;
beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'comfy-vast-calendar-'));
});
afterAll(async () => rm(dataRoot, { recursive: true, force: true }));

/** Starts the server, gives it a budget, lets it idle, and returns its output and the month its budget counts. */
async function idleRun(dir: string, env: Record<string, string>): Promise<{ output: string; month: string }> {
  const server = run(['serve', '--data-dir', dir], env);
  const url = await server.url;
  const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const budget = await fetch(`${url}/api/users/1/budget`, { method: 'PUT', headers, body: JSON.stringify({ monthlyLimit: 50 }) });
  expect(budget.status).toBe(200);
  const { month } = (await budget.json()) as { month: string };
  await new Promise((r) => setTimeout(r, 1_500));
  server.child.kill('SIGTERM');
  expect(await server.exit).toBe(0);
  return { output: server.output(), month };
}

describe('the server on any day of the calendar', () => {
  it('starts and idles today without a single process warning', async () => {
    const { output } = await idleRun(join(dataRoot, 'today'), {});
    expect(output).not.toMatch(/Warning/);
  });

  it.concurrent.each(DAYS)('starts and idles on %s without a process warning', async (day) => {
    // CI installs faketime (.ci/run); without it this test cannot say anything, so it fails rather than skips.
    const lib = await libfaketime();
    expect(lib, 'libfaketime is missing: apt-get install faketime').toBeDefined();
    const { output, month } = await idleRun(join(dataRoot, day.replace(/\W/g, '-')), { LD_PRELOAD: lib!, FAKETIME: `@${day}`, FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' });
    expect(month).toBe(day.slice(0, 7));
    expect(output).toContain('listening on');
    expect(output).not.toMatch(/Warning/);
  });
});
