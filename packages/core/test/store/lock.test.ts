import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LowdbStore } from '../../src/store/index.js';
import { settings, storeHarness } from './helpers.js';

const h = storeHarness();

function sleeper() {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

describe('one writer per data directory', () => {
  it('holds a lock file with its pid while open and removes it on close', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    expect((await readFile(join(dir, 'comfy-vast.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await expect(LowdbStore.open({ dir })).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringContaining(`pid ${process.pid}`) });
    await store.close();
    const next = await h.open({ dir });
    expect(next.dir).toBe(dir);
  });

  it('refuses a directory locked by another live process', async () => {
    const dir = await h.dir();
    const other = sleeper();
    try {
      await writeFile(join(dir, 'comfy-vast.lock'), `${other.pid}\n`);
      const error = await LowdbStore.open({ dir }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STORE_ERROR', details: { pid: other.pid } });
      expect((error as Error).message).toBe(
        `Another comfy-vast process (pid ${other.pid}) uses the data directory ${dir}. Stop it, or give this one another data directory (COMFY_VAST_DATA).`,
      );
      expect((await readFile(join(dir, 'comfy-vast.lock'), 'utf8')).trim()).toBe(String(other.pid));
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a process that is no longer running', async () => {
    const dir = await h.dir();
    const gone = sleeper();
    gone.kill();
    await once(gone, 'exit');
    await writeFile(join(dir, 'comfy-vast.lock'), `${gone.pid}\n`);
    const store = await h.open({ dir });
    expect((await readFile(join(dir, 'comfy-vast.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await store.collection(settings).insert({ key: 'a', value: 'b' });
  });

  it('takes over an empty lock file left by a process that died while creating it', async () => {
    const dir = await h.dir();
    await writeFile(join(dir, 'comfy-vast.lock'), '');
    const store = await h.open({ dir });
    expect((await readFile(join(dir, 'comfy-vast.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await store.close();
    await expect(readFile(join(dir, 'comfy-vast.lock'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
