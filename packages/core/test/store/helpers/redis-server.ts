import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.js';
import { runServerProcess } from './server-process.js';

/** A Redis of the tests' own: in a temporary folder, on a free loopback port, without persistence, removed on stop. */
export interface PrivateRedis {
  /** `redis://127.0.0.1:<port>`: no password, loopback only. */
  url: string;
  /**
   * Shuts the server down, runs `whileDown`, and starts it again on the same port, empty (nothing is persisted).
   * Absent when the tests were given a Redis of their own through COMFY_VAST_TEST_REDIS_URL.
   */
  restart?(whileDown: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HINT =
  'Install Redis\'s server with `apt-get install redis-server` (Debian/Ubuntu; .ci/run does it), or give the tests a ' +
  'Redis with COMFY_VAST_TEST_REDIS_URL=redis://[:password@]host:port (the tests write keys under prefixes of their own).';

/** `redis-server` on the PATH, else where Debian puts it. */
export function findRedisServer(): string {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  const found = [...path, '/usr/bin', '/usr/sbin', '/usr/local/bin'].map((dir) => join(dir, 'redis-server')).find((file) => existsSync(file));
  if (!found) throw new Error(`redis-server was not found. ${REDIS_INSTALL_HINT}`);
  return found;
}

/** Resolves when the server logs that it accepts connections; rejects when it exits first or takes over 30 s. */
function waitUntilReady(child: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`redis-server did not accept connections within 30 s: ${log()}`)), 30_000);
    const onOutput = () => {
      if (log().includes('Ready to accept connections')) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`redis-server exited (${code}): ${log()}`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', onOutput);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stdout!.on('data', onOutput);
    child.once('exit', onExit);
  });
}

/**
 * The Redis that COMFY_VAST_TEST_REDIS_URL names, else `redis-server` started on a free loopback port with its
 * working folder in a temporary one, so nothing is shared with a system service; it throws, saying how to install
 * Redis, when redis-server is missing. Snapshots and the append-only file are off: the tests check what the
 * scripts compute, not what survives a restart.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const given = process.env.COMFY_VAST_TEST_REDIS_URL;
  if (given) return { url: given, stop: async () => undefined };
  const bin = findRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', ''];
  let log = '';
  const { restart, stop } = await runServerProcess({
    dir,
    signal: 'SIGTERM',
    launch: async (track) => {
      log = '';
      const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      const keep = (chunk: Buffer) => (log = `${log}${chunk.toString('utf8')}`.slice(-4000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      await waitUntilReady(child, () => log);
    },
  });
  return { url: `redis://127.0.0.1:${port}`, restart, stop };
}
