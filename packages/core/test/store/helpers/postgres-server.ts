import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../helpers/free-port.js';
import { runServerProcess } from './server-process.js';
import { giveTo, systemUser, unprivilegedUser, type SystemUser } from '../../helpers/system-user.js';

/** A PostgreSQL server of the tests' own: in a temporary folder, on a free loopback port, removed on stop. */
export interface PrivatePostgres {
  /** `postgres://comfy_vast@127.0.0.1:<port>/postgres`: trust authentication, loopback only. */
  url: string;
  /** Shuts the server down (fast: sessions are ended), runs `whileDown`, and starts it again on the same port. */
  restart(whileDown: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'Install PostgreSQL\'s server with `apt-get install postgresql` (Debian/Ubuntu; .ci/run does it), or give the tests a ' +
  'database with COMFY_VAST_TEST_DATABASE_URL=postgres://user:password@host:port/database (each test uses a schema of its own and drops it).';

const SUPERUSER = 'comfy_vast';

/** The folder holding `initdb` and `postgres`: Debian's versioned folders (newest first), then the PATH. */
export function findPostgresBinaries(): string {
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  const found = [...debian, '/usr/local/pgsql/bin', ...path].find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (!found) throw new Error(`PostgreSQL's server binaries (initdb, postgres) were not found. ${INSTALL_HINT}`);
  return found;
}

/** PostgreSQL refuses to run as root: root runs it as `postgres`, the user Debian's package creates. */
function serverUser(): SystemUser {
  return unprivilegedUser(() => {
    try {
      return systemUser('postgres');
    } catch {
      throw new Error(`Running as root, the tests start PostgreSQL as the user "postgres", which does not exist. ${INSTALL_HINT}`);
    }
  });
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${log()}`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`postgres did not accept connections within 30 s: ${log()}`);
}

/**
 * initdb into a temporary folder, then `postgres` on a free loopback port with its unix socket in that folder, so
 * nothing is shared with a system service. `durable: false` (the tests) turns fsync off: they check what the store
 * writes, not what survives a power cut; the benchmark keeps it on.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PrivatePostgres> {
  const bin = findPostgresBinaries();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-postgres-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  await mkdir(sockets);
  await giveTo(user, dir);
  await giveTo(user, sockets);
  const asServerUser = { uid: user.uid, gid: user.gid, cwd: dir };
  try {
    await promisify(execFile)(join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], asServerUser);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
  const port = await freePort();
  const settings = ['listen_addresses=127.0.0.1', `unix_socket_directories=${sockets}`, 'max_connections=200', ...(options.durable ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'])];
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  let log = '';
  const { restart, stop } = await runServerProcess({
    dir,
    // SIGINT is PostgreSQL's fast shutdown: it ends the sessions and stops without waiting for clients.
    signal: 'SIGINT',
    launch: async (track) => {
      const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings.flatMap((s) => ['-c', s])], { ...asServerUser, stdio: ['ignore', 'ignore', 'pipe'] });
      track(child);
      child.stderr!.on('data', (chunk: Buffer) => (log = `${log}${chunk.toString('utf8')}`.slice(-4000)));
      await waitUntilReady(url, child, () => log);
    },
  });
  return { url, restart, stop };
}
