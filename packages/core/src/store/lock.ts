import { ComfyVastError } from '../errors/index.js';
import type { Logger } from '../util/index.js';
import { fileError } from './errors.js';
import { errnoCode, type StoreFs } from './fs.js';

/**
 * One writer per data directory: a lock file created exclusively and holding the owner's pid. A lock whose
 * pid is no longer running (the owner crashed) is taken over; a live one is refused.
 */
export class DirectoryLock {
  private constructor(
    private readonly fs: StoreFs,
    readonly path: string,
  ) {}

  static async acquire(fs: StoreFs, path: string, dir: string, logger: Logger): Promise<DirectoryLock> {
    for (let attempt = 0; ; attempt++) {
      try {
        const file = await fs.open(path, 'exclusive');
        try {
          await file.write(`${process.pid}\n`);
          await file.sync();
        } finally {
          await file.close();
        }
        return new DirectoryLock(fs, path);
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw fileError('create the lock file', path, error);
      }
      const owner = await readOwner(fs, path);
      if (owner !== null && isRunning(owner)) {
        throw new ComfyVastError(
          'STORE_ERROR',
          `Another comfy-vast process (pid ${owner}) uses the data directory ${dir}. Stop it, or give this one another data directory (COMFY_VAST_DATA).`,
          { details: { file: path, pid: owner } },
        );
      }
      // Two processes taking over the same stale lock at once: the loser sees the winner's live pid next time.
      if (attempt > 0) throw fileError('take over the stale lock file', path, new Error('it keeps reappearing'));
      logger.warn({ file: path, pid: owner }, 'taking over the lock of a comfy-vast process that is no longer running');
      await fs.unlink(path).catch((error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw fileError('remove the stale lock file', path, error);
      });
    }
  }

  async release(): Promise<void> {
    await this.fs.unlink(this.path).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT') throw fileError('remove the lock file', this.path, error);
    });
  }
}

/** The pid in the lock file; null when the file is empty or garbled (its owner died while writing it). */
async function readOwner(fs: StoreFs, path: string): Promise<number | null> {
  try {
    const pid = Number((await fs.readFile(path)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw fileError('read the lock file', path, error);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errnoCode(error) === 'EPERM';
  }
}
