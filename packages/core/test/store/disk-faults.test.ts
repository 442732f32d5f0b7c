import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeStoreFs, type StoreFs } from '../../src/store/index.js';
import { errno, faultyFs, generation, generations, settings, storeHarness, type FsOp } from './helpers.js';

const h = storeHarness();

/** Fails the first `times` operations `op` on files whose path contains `path`, then lets them through. */
function failing(op: FsOp, path: string, code: string, times = 1) {
  let left = times;
  return faultyFs((o, p) => (o === op && p.includes(path) && left-- > 0 ? errno(code) : undefined));
}

describe('a full or read-only disk', () => {
  it.each(['ENOSPC', 'EDQUOT'])('rejects a log write on %s naming the file, keeps memory as on disk and goes on once there is room', async (code) => {
    const dir = await h.dir();
    const store = await h.open({ dir, fs: failing('write', 'generations.', code) });
    const c = store.collection(generations);
    const error = await c.insert(generation(1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_ERROR', details: { file: 'collections/generations.000001.jsonl', errno: code } });
    expect((error as Error).message).not.toContain(dir);
    expect((error as Error).message).toMatch(code === 'ENOSPC' ? /disk is full/ : /quota/);
    expect(c.all()).toEqual([]);

    const saved = await c.insert(generation(2));
    expect(saved.id).toBe(2);
    await store.close();
    const again = (await h.open({ dir })).collection(generations);
    expect(again.all()).toEqual([saved]);
  });

  it('cuts back a half-written log batch so that a reload never sees a change whose caller was told it failed', async () => {
    const dir = await h.dir();
    let fail = false;
    const halfWrites: StoreFs = {
      ...nodeStoreFs,
      async open(path, mode) {
        const file = await nodeStoreFs.open(path, mode);
        return {
          ...file,
          async write(data) {
            if (!fail) return file.write(data);
            fail = false;
            await file.write(data.slice(0, Math.floor(data.length * 0.7)));
            throw errno('ENOSPC');
          },
        };
      },
    };
    const store = await h.open({ dir, fs: halfWrites });
    const c = store.collection(generations);
    await c.insert(generation(1));
    fail = true;
    const results = await Promise.allSettled([c.insert(generation(2)), c.update(1, { status: 'running' }), c.insert(generation(3))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(c.all().map((g) => [g.id, g.status])).toEqual([[1, 'queued']]);
    await c.insert(generation(4));
    await store.close();

    const again = (await h.open({ dir })).collection(generations);
    expect(again.all().map((g) => [g.id, g.status])).toEqual([
      [1, 'queued'],
      [4, 'queued'],
    ]);
  });

  it('stops writes to a log whose failed append cannot be undone, until the store is reopened', async () => {
    const dir = await h.dir();
    const fs = faultyFs((op, path) => ((op === 'write' || op === 'truncate') && path.includes('generations.') ? errno('EROFS') : undefined));
    const store = await h.open({ dir, fs });
    const c = store.collection(generations);
    await expect(c.insert(generation(1))).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(/read-only/) });
    await expect(c.insert(generation(2))).rejects.toThrow(/Writes to collection generations are stopped.*Reopen the store/);
    expect(c.count()).toBe(0);
  });

  it('keeps the segments when a compaction fails, retries it only after another segment, and loses nothing', async () => {
    const dir = await h.dir();
    let full = true;
    const fs = faultyFs((op, path) => (full && op === 'write' && path.includes('generations.json.tmp-') ? errno('ENOSPC') : undefined));
    const store = await h.open({ dir, fs, segmentBytes: 1_000 });
    const c = store.collection(generations);
    for (let n = 0; n < 40; n++) await c.insert(generation(n));
    const attempts = () => fs.calls.filter((call) => call.op === 'open' && call.path.includes('generations.json.tmp-')).length;
    const segments = () => fs.calls.filter((call) => call.op === 'open' && call.path.endsWith('.jsonl')).length;
    let written = 0;
    for (const file of (await readdir(join(dir, 'collections'))).filter((f) => f.endsWith('.jsonl'))) written += (await stat(join(dir, 'collections', file))).size;
    // A failed compaction at the first 1,000 bytes, then a retry (and a new segment) only each 1,000 bytes further on.
    expect(attempts()).toBeGreaterThan(1);
    expect(attempts()).toBeLessThanOrEqual(Math.floor(written / 1_000));
    expect(segments() - attempts()).toBeLessThanOrEqual(1);
    full = false;
    for (let n = 40; n < 60; n++) await c.insert(generation(n));
    await store.close();
    expect(await readdir(join(dir, 'collections'))).toContain('generations.json');
    const again = (await h.open({ dir })).collection(generations);
    expect(again.count()).toBe(60);
    expect(again.get(60)).toEqual({ ...generation(59), id: 60 });
  });

  it('rejects a document write on ENOSPC, leaving the file and memory as they were', async () => {
    const dir = await h.dir();
    const seed = await h.open({ dir });
    await seed.collection(settings).insert({ key: 'a', value: '1' });
    await seed.close();
    const before = await readFile(join(dir, 'collections', 'settings.json'), 'utf8');

    const store = await h.open({ dir, fs: failing('write', 'settings.json.tmp-', 'ENOSPC') });
    const c = store.collection(settings);
    const results = await Promise.allSettled([c.update(1, { value: '2' }), c.insert({ key: 'b', value: '3' }), c.delete(1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_ERROR', message: expect.stringContaining('collections/settings.json') });
    expect(c.all()).toEqual([{ id: 1, key: 'a', value: '1' }]);
    expect(await readFile(join(dir, 'collections', 'settings.json'), 'utf8')).toBe(before);
    await c.update(1, { value: '4' });
    expect(c.all()).toEqual([{ id: 1, key: 'a', value: '4' }]);
  });

  it('rejects a named value that cannot be written and keeps the old one', async () => {
    const dir = await h.dir();
    const seed = await h.open({ dir });
    await seed.setValue('k', 'old');
    await seed.close();
    const store = await h.open({ dir, fs: failing('write', 'meta.json.tmp-', 'ENOSPC') });
    await expect(store.setValue('k', 'new')).rejects.toMatchObject({ code: 'STORE_ERROR', details: { file: 'meta.json' } });
    expect(store.getValue('k')).toBe('old');
    await store.setValue('k', 'newer');
    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).values).toEqual({ k: 'newer' });
  });

  it('refuses to open a directory on a read-only file system with a clear error', async () => {
    const dir = await h.dir();
    const fs = faultyFs((op) => (op === 'open' ? errno('EROFS') : undefined));
    await expect(h.open({ dir, fs })).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/comfy-vast\.lock: the file system is read-only/),
    });
  });
});
