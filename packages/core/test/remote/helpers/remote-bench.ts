import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshRunner } from '../../../src/remote/ssh-runner.js';
import { FileServer } from './fixtures.js';
import { runnerFor } from './runner.js';
import { startSshd, type PrivateSshd } from './sshd.js';

/** What remote.sh is tested against: a private sshd, a runner for it and a loopback file server to fetch from. */
export interface RemoteBench {
  sshd: PrivateSshd;
  runner: SshRunner;
  files: FileServer;
  /** The file server's folder (a temporary one, removed on stop). */
  root: string;
  stop(): Promise<void>;
}

/** Starts the bench; `prepare` fills the file server's folder before it serves. What started is stopped if a later part fails. */
export async function startRemoteBench(prepare: (root: string) => Promise<unknown> = async () => undefined): Promise<RemoteBench> {
  let sshd: PrivateSshd | undefined;
  let root: string | undefined;
  let files: FileServer | undefined;
  let runner: SshRunner | undefined;
  const stop = async () => {
    runner?.closeAll();
    await files?.close();
    await sshd?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  };
  try {
    sshd = await startSshd();
    root = await mkdtemp(join(tmpdir(), 'comfy-vast-files-'));
    await prepare(root);
    files = await FileServer.start(root);
    runner = await runnerFor(sshd);
    return { sshd, runner, files, root, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
