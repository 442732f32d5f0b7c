import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli-process.js';

const trace = `--import=${pathToFileURL(join(import.meta.dirname, 'fixtures', 'trace-testkit.mjs')).href}`;

/** A server process compiles its TypeScript on start: seconds alone, many more on a loaded CI machine. */
const STARTUP_MS = 90_000;

let dataRoot: string;
beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'comfy-vast-packaging-'));
});
afterAll(async () => rm(dataRoot, { recursive: true, force: true }));

/** Starts the server with the given settings, stops it, and returns what it printed. */
async function startAndStop(name: string, env: Record<string, string>): Promise<string> {
  const server = run(['serve', '--data-dir', join(dataRoot, name)], { NODE_OPTIONS: trace, ...env });
  await server.url;
  server.child.kill('SIGTERM');
  expect(await server.exit).toBe(0);
  return server.output();
}

describe('the fakes stay out of a production server', () => {
  it('a server on the vast provider never loads the testkit', async () => {
    const output = await startAndStop('vast', { COMFY_VAST_PROVIDER: 'vast', VAST_API_KEY: 'k'.repeat(40), VAST_API_URL: 'http://127.0.0.1:9' });
    expect(output).toContain('listening on');
    expect(output).not.toContain('testkit module loaded');
  }, STARTUP_MS);

  it('the simulated provider loads it (so the check above can see it)', async () => {
    const output = await startAndStop('simulated', { COMFY_VAST_PROVIDER: 'simulated' });
    expect(output).toContain('testkit module loaded');
  }, STARTUP_MS);
});
