import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../packages/server/test/helpers.js';

/**
 * Every example runs as a user would run it. REST examples get a running server on the simulated provider
 * through COMFY_VAST_URL and COMFY_VAST_TOKEN; library examples start what they need themselves.
 */
const dir = fileURLToPath(new URL('.', import.meta.url));
const examples = readdirSync(dir).filter((f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.test.ts')).sort();

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100' });
});
afterAll(async () => server?.stop());

function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', file], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('examples', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples)('%s runs to completion', async (file) => {
    const user = await server.admin.createUser({ body: { username: `example-${file.replace(/\W/g, '-')}` } });
    const { code, output } = await runExample(file, { COMFY_VAST_URL: server.url, COMFY_VAST_TOKEN: user.token });
    if (code !== 0) throw new Error(`${file} exited with ${code}:\n${output}`);
  }, 180_000);
});
