import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { z } from 'zod';
import { defineCollection, LowdbStore, nodeStoreFs, type Collection, type LowdbStoreOptions, type StoreFs } from '../../src/store/index.js';

export const Generation = z.object({
  id: z.number().int().positive(),
  userId: z.number().int().positive(),
  serverId: z.number().int().positive(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  prompt: z.string(),
  createdAt: z.string(),
});
export type Generation = z.infer<typeof Generation>;

export const generations = defineCollection({ name: 'generations', schema: Generation, kind: 'log' });

export const Setting = z.object({ id: z.number().int().positive(), key: z.string(), value: z.string() });
export const settings = defineCollection({ name: 'settings', schema: Setting, kind: 'document' });

export function generation(n: number, overrides: Partial<Omit<Generation, 'id'>> = {}): Omit<Generation, 'id'> {
  return { userId: 1 + (n % 3), serverId: 1 + (n % 2), status: 'queued', prompt: `prompt ${n}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), ...overrides };
}

/**
 * Changes one record across three batches (an insert; two updates; a delete, an insert and its update): the
 * store must keep their order. Record 2 with the prompt `last` is all that remains.
 */
export async function changeAcrossBatches(c: Collection<Generation>): Promise<void> {
  const pending: Promise<unknown>[] = [c.insert(generation(1))];
  await pending[0];
  pending.push(c.update(1, { status: 'running' }), c.update(1, { status: 'completed' }));
  await new Promise((r) => setImmediate(r));
  pending.push(c.delete(1), c.insert(generation(2)), c.update(2, { prompt: 'last' }));
  await Promise.all(pending);
}

/**
 * Temp directories and stores for the tests of one file: `dir()` makes a directory, `open()` opens a store;
 * after each test the stores still open are closed and the directories removed.
 */
export function storeHarness() {
  const dirs: string[] = [];
  const stores: LowdbStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    async dir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-store-'));
      dirs.push(dir);
      return dir;
    },
    async open(options: LowdbStoreOptions): Promise<LowdbStore> {
      const store = await LowdbStore.open(options);
      stores.push(store);
      return store;
    },
  };
}

export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault`), { code });
}

export type FsOp = 'readFile' | 'open' | 'write' | 'sync' | 'truncate' | 'rename' | 'unlink' | 'mkdir' | 'syncDir';

/**
 * node's file operations with faults: `fault` is asked before each operation and the error it returns is thrown
 * instead of doing it. `calls` records every operation, to count file writes.
 */
export function faultyFs(fault: (op: FsOp, path: string) => Error | undefined): StoreFs & { calls: { op: FsOp; path: string }[] } {
  const calls: { op: FsOp; path: string }[] = [];
  const check = (op: FsOp, path: string) => {
    calls.push({ op, path });
    const error = fault(op, path);
    if (error) throw error;
  };
  return {
    calls,
    readFile: async (path) => (check('readFile', path), nodeStoreFs.readFile(path)),
    async open(path, mode) {
      check('open', path);
      const file = await nodeStoreFs.open(path, mode);
      return {
        write: async (data) => (check('write', path), file.write(data)),
        sync: async () => (check('sync', path), file.sync()),
        truncate: async (size) => (check('truncate', path), file.truncate(size)),
        close: () => file.close(),
      };
    },
    rename: async (from, to) => (check('rename', to), nodeStoreFs.rename(from, to)),
    unlink: async (path) => (check('unlink', path), nodeStoreFs.unlink(path)),
    mkdir: async (path) => (check('mkdir', path), nodeStoreFs.mkdir(path)),
    readdir: (path) => nodeStoreFs.readdir(path),
    syncDir: async (path) => (check('syncDir', path), nodeStoreFs.syncDir(path)),
  };
}
