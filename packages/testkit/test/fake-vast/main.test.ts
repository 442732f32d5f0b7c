import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const main = fileURLToPath(new URL('../../src/fake-vast/main.ts', import.meta.url));

it('runs on its own and prints the URL and key to point a server at', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', main, '--speed', '100', '--key', 'fake-key'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const match = /^VAST_API_URL=(http:\/\/127\.0\.0\.1:\d+) VAST_API_KEY=fake-key$/.exec(line);
    expect(match).not.toBeNull();
    const res = await fetch(`${match![1]}/api/v0/users/current/`, { headers: { authorization: 'Bearer fake-key' } });
    expect(res.status).toBe(200);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});
