import { execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli-process.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-cli-'));
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

describe('comfy-vast serve', () => {
  it('prints a generated admin token once, keeps data across a graceful restart, and logs no secret', async () => {
    const first = run(['serve', '--data-dir', dataDir], {});
    const url = await first.url;
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect((await stat(join(dataDir, 'admin-token'))).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain('GPU servers are SIMULATED');
    expect(first.output().split(token).length - 1).toBe(1);

    const health = await (await fetch(`${url}/api/health`)).json();
    expect(health).toMatchObject({ status: 'ok', provider: 'simulated' });
    const created = await fetch(`${url}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'persisted' }),
    });
    const user = (await created.json()) as { token: string };
    expect(created.status).toBe(201);

    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);

    const second = run(['serve', '--data-dir', dataDir], {});
    const url2 = await second.url;
    expect(second.output()).not.toContain(token);
    const me = await fetch(`${url2}/api/users/me`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(me.status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);

    const logLines = (first.output() + second.output()).split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(2);
    for (const line of logLines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(user.token);
    }
  });

  it('adds a user from the command line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-cli-users-'));
    try {
      const add = run(['users', 'add', 'gina', '--data-dir', dir], {});
      expect(await add.exit).toBe(0);
      expect(add.output()).toMatch(/Created user gina \(id \d+\)\. Token, shown once:\ncv_/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is linked as `comfy-vast` at the repository root, so `npx comfy-vast` works there', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const link = join(root, 'node_modules', '.bin', 'comfy-vast');
    expect(await realpath(link)).toBe(join(root, 'packages', 'server', 'bin', 'comfy-vast.js'));
    const { stdout, stderr } = await promisify(execFile)(link, ['--version'], { cwd: root }).catch((e: { stdout: string; stderr: string }) => e);
    // Before the first build the command says how to build it; after, it answers.
    expect(`${stdout}${stderr}`).toMatch(/^\d+\.\d+\.\d+\n$|the command is not built yet/);
  });

  it('refuses to add a user where there is no data directory, instead of creating one', async () => {
    const missing = join(dataDir, 'no-such-dir');
    const add = run(['users', 'add', 'gina', '--data-dir', missing], {});
    expect(await add.exit).toBe(1);
    expect(add.output()).toContain(`there is no data directory at ${missing}`);
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('with a Vast key but the simulated provider chosen, says which setting rents real servers, and never prints the key', async () => {
    const key = 'vast-key-0123456789abcdef0123456789abcdef';
    const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-cli-sim-'));
    try {
      const server = run(['serve', '--data-dir', dir], { VAST_API_KEY: key, COMFY_VAST_PROVIDER: 'simulated' });
      await server.url;
      server.child.kill('SIGTERM');
      expect(await server.exit).toBe(0);
      expect(server.output()).toContain('VAST_API_KEY is set but the provider is "simulated": set COMFY_VAST_PROVIDER=vast');
      expect(server.output()).not.toContain(key);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a vast provider without a key, clearly', async () => {
    const bad = run(['serve', '--provider', 'vast', '--data-dir', dataDir], {});
    expect(await bad.exit).toBe(1);
    expect(bad.output()).toContain('The vast provider needs VAST_API_KEY');
  });
});
