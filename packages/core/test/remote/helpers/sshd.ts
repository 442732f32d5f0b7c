import { sshKeyPair } from '@comfy-vast/testkit';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/free-port.js';
import { giveTo, systemUser, unprivilegedUser, type SystemUser } from '../../helpers/system-user.js';

/** A private OpenSSH daemon on loopback, running as an unprivileged user who is also the one logging in. */
/**
 * Tests that run commands through a real sshd: each command is a login and a process or two, so a test of many takes
 * seconds alone and several times that on a loaded CI machine.
 */
export const SSHD_TIMEOUT = { timeout: 90_000 };

export interface PrivateSshd {
  host: string;
  port: number;
  username: string;
  /** A folder of the test user's, removed on stop: remote state and checkouts go under it. */
  dir: string;
  /** The client key authorized for the user (OpenSSH private key text). */
  privateKey: string;
  /** `SHA256:...` of the daemon's host key, as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** Runs a command as the test user (to read or plant files without going through SSH). */
  asUser(command: string, args: string[]): string;
  stop(): Promise<void>;
}

const TEST_USER = 'comfyvast-test';
const INSTALL_HINT =
  'These tests need OpenSSH\'s sshd: install it with `apt-get install openssh-server` (Debian/Ubuntu; .ci/run does it) ' +
  'or your system\'s openssh-server package.';

function findSshd(): string {
  for (const path of ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd']) if (existsSync(path)) return path;
  throw new Error(`sshd not found. ${INSTALL_HINT}`);
}

/**
 * Root creates (once) and uses a dedicated unprivileged user; anyone else runs sshd as themselves. An sshd that is
 * not root can only log in the user it runs as, which is exactly what the tests need, and no root login is allowed.
 */
function testUser(): SystemUser {
  return unprivilegedUser(() => {
    try {
      return systemUser(TEST_USER);
    } catch {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', TEST_USER], { stdio: 'ignore' });
      return systemUser(TEST_USER);
    }
  });
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${stderr()}`);
}

export async function startSshd(): Promise<PrivateSshd> {
  const sshd = findSshd();
  const user = testUser();
  const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-sshd-'));
  const owned = (path: string) => giveTo(user, path);
  await owned(dir);
  await chmod(dir, 0o755);

  const hostKey = join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await owned(hostKey);
  const listed = execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' });
  const hostKeyFingerprint = /SHA256:\S+/.exec(listed)![0];

  const client = sshKeyPair();
  await writeFile(join(dir, 'authorized_keys'), `${client.public}\n`);
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      `AllowUsers ${user.name}`,
      'UsePAM no',
      'StrictModes no',
      'MaxSessions 20',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  for (const file of ['authorized_keys', 'sshd_config']) await owned(join(dir, file));

  let stderr = '';
  const child = spawn(sshd, ['-D', '-e', '-f', config], { uid: user.uid, gid: user.gid, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString('utf8')}`.slice(-4000)));
  await waitForPort(port, child, () => stderr);

  const work = join(dir, 'work');
  execFileSync('mkdir', ['-p', work], { uid: user.uid, gid: user.gid });

  return {
    host: '127.0.0.1',
    port,
    username: user.name,
    dir: work,
    privateKey: client.private,
    hostKeyFingerprint,
    asUser: (command, args) => execFileSync(command, args, { uid: user.uid, gid: user.gid, encoding: 'utf8', cwd: work }),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await killRecorded(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Ends what remote.sh left running under `dir`: each detached job and a started ComfyUI lead their own session
 * (setsid), and their ids are in `pid` / `comfy.pid` files, so each process group is ended by its recorded id.
 */
async function killRecorded(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || (entry.name !== 'pid' && entry.name !== 'comfy.pid')) continue;
    const pid = Number((await readFile(join(entry.parentPath, entry.name), 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 1) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
