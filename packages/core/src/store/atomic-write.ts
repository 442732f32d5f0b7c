import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { StoreFs, WritableFile } from './fs.js';

/** Temp files are named `<file>.tmp-<pid>-<random>`; any left by a crash are removed on the next open. */
export const TEMP_FILE = /\.tmp-\d+-[0-9a-f]+$/;

/**
 * Replaces `path` with the given content so that a reader (or a crash at any point) sees either the whole old
 * file or the whole new one: write a temp file beside it, fsync it, rename it over, fsync the directory.
 */
export async function writeFileAtomic(fs: StoreFs, path: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let file: WritableFile | undefined;
  try {
    file = await fs.open(temp, 'create');
    for await (const chunk of chunks) await file.write(chunk);
    await file.sync();
    const opened = file;
    file = undefined;
    await opened.close();
    await fs.rename(temp, path);
  } catch (error) {
    await file?.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw error;
  }
  await fs.syncDir(dirname(path));
}

/** Removes the temp files a crash left in `dir`; returns their names. */
export async function removeTempFiles(fs: StoreFs, dir: string): Promise<string[]> {
  const stray = (await fs.readdir(dir)).filter((name) => TEMP_FILE.test(name));
  for (const name of stray) await fs.unlink(join(dir, name));
  return stray;
}
