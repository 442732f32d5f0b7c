import * as fsp from 'node:fs/promises';

/** An open file the store writes to. `sync` makes what was written durable (fdatasync). */
export interface WritableFile {
  write(data: string): Promise<void>;
  sync(): Promise<void>;
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file operations the store uses, and nothing else. Injected through `LowdbStore.open({ fs })` so that
 * faults (a full disk, a crash before a rename) can be produced in tests without touching node's modules.
 * Errors are node's: an `Error` with an errno `code` (ENOENT, EEXIST, ENOSPC, ...).
 */
export interface StoreFs {
  readFile(path: string): Promise<string>;
  /** `create` truncates or creates, `append` writes at the end, `exclusive` fails with EEXIST when the file exists. */
  open(path: string, mode: 'create' | 'append' | 'exclusive'): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Creates a directory and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** Makes the directory's entries (created, renamed, removed files) durable. */
  syncDir(path: string): Promise<void>;
}

const FLAGS = { create: 'w', append: 'a', exclusive: 'wx' } as const;

export const nodeStoreFs: StoreFs = {
  readFile: (path) => fsp.readFile(path, 'utf8'),
  async open(path, mode) {
    const handle = await fsp.open(path, FLAGS[mode]);
    return {
      // writeFile on a handle writes the whole string from the current position (the end in append mode).
      write: (data) => handle.writeFile(data, 'utf8'),
      sync: () => handle.datasync(),
      truncate: (size) => handle.truncate(size),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true });
  },
  readdir: (path) => fsp.readdir(path),
  async syncDir(path) {
    const handle = await fsp.open(path, 'r');
    try {
      await handle.sync();
    } catch (error) {
      // Some platforms (Windows) cannot fsync a directory; there a rename is as durable as it gets.
      if (!['EISDIR', 'EINVAL', 'EPERM'].includes(errnoCode(error) ?? '')) throw error;
    } finally {
      await handle.close();
    }
  },
};

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
