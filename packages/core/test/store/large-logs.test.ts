import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCollection, nodeStoreFs, type StoreFs } from '../../src/store/index.js';
import { faultyFs, filesIn, generation, generations, settings, storeHarness } from './helpers.js';

const h = storeHarness();

const settingsAsLog = { ...settings, kind: 'log' as const };

/** Renames onto `<name>.json` and temp files opened for it: what a rewrite of the collection's file costs. */
function rewritesOf(fs: ReturnType<typeof faultyFs>, file: string): number {
  return fs.calls.filter((call) => (call.op === 'rename' && call.path.endsWith(`/${file}`)) || (call.op === 'open' && call.path.includes(`/${file}.tmp-`))).length;
}

describe('a collection that was a document and is now a log', () => {
  it('appends its changes without rewriting the old whole file, and reads back everything', async () => {
    const dir = await h.dir();
    const seed = await h.open({ dir });
    for (let n = 0; n < 20; n++) await seed.collection(settings).insert({ key: `k${n}`, value: 'x'.repeat(100) });
    await seed.close();
    const whole = join(dir, 'collections', 'settings.json');
    const before = await readFile(whole, 'utf8');

    const fs = faultyFs(() => undefined);
    const store = await h.open({ dir, fs });
    const c = store.collection(settingsAsLog);
    expect(c.count()).toBe(20);
    await c.insert({ key: 'new', value: 'y' });
    await c.update(3, { value: 'changed' });
    await c.delete(5);
    await store.close();

    expect(rewritesOf(fs, 'settings.json')).toBe(0);
    expect(await readFile(whole, 'utf8')).toBe(before);
    expect(await filesIn(join(dir, 'collections'))).toEqual(['settings.000001.jsonl', 'settings.json']);
    const again = (await h.open({ dir })).collection(settingsAsLog);
    expect(again.count()).toBe(20);
    expect(again.get(3)?.value).toBe('changed');
    expect(again.get(5)).toBeUndefined();
    expect(again.get(21)).toEqual({ id: 21, key: 'new', value: 'y' });
  });

  it('keeps every acknowledged change when a crash tears the append that followed them', async () => {
    const dir = await h.dir();
    const seed = await h.open({ dir });
    await seed.collection(settings).insert({ key: 'a', value: '1' });
    await seed.close();
    const store = await h.open({ dir });
    await store.collection(settingsAsLog).update(1, { value: '2' });
    await store.close();
    await appendFile(join(dir, 'collections', 'settings.000001.jsonl'), '{"op":"put","record":{"id":1,"key":"a","val');

    expect((await h.open({ dir })).collection(settingsAsLog).all()).toEqual([{ id: 1, key: 'a', value: '2' }]);
  });
});

describe('a log with a large snapshot', () => {
  it('leaves the snapshot alone until its segments have grown to its size, then rebuilds it once', async () => {
    const dir = await h.dir();
    const records = Array.from({ length: 100 }, (_, i) => ({ ...generation(i), id: i + 1 }));
    await h.open({ dir }).then((s) => s.close());
    const snapshot = join(dir, 'collections', 'generations.json');
    await writeFile(snapshot, JSON.stringify({ nextId: 101, segment: 0, records }));
    const snapshotBytes = (await stat(snapshot)).size;

    const fs = faultyFs(() => undefined);
    const store = await h.open({ dir, fs, segmentBytes: 500 });
    const c = store.collection(generations);
    const line = Buffer.byteLength(`${JSON.stringify({ op: 'put', record: { ...generation(1000), id: 1000 } })}\n`);
    const underSnapshot = Math.floor((0.9 * snapshotBytes) / line);
    for (let n = 0; n < underSnapshot; n++) await c.insert(generation(1000 + n));
    expect(rewritesOf(fs, 'generations.json')).toBe(0);

    for (let n = underSnapshot; n < Math.ceil((1.2 * snapshotBytes) / line); n++) await c.insert(generation(1000 + n));
    await store.close();
    // One temp file written and renamed over the snapshot.
    expect(rewritesOf(fs, 'generations.json')).toBe(2);
    const again = (await h.open({ dir })).collection(generations);
    expect(again.count()).toBe(100 + Math.ceil((1.2 * snapshotBytes) / line));
  });

  it('writes a snapshot of large records in chunks of a few hundred KiB, so no chunk blocks for long', async () => {
    const Big = z.object({ id: z.number().int().positive(), blob: z.string() });
    const bigs = defineCollection({ name: 'bigs', schema: Big, kind: 'log' });
    const dir = await h.dir();
    const writes: number[] = [];
    const fs: StoreFs = {
      ...nodeStoreFs,
      async open(path, mode) {
        const file = await nodeStoreFs.open(path, mode);
        if (!path.includes('bigs.json.tmp-')) return file;
        return { ...file, write: async (data: string) => (writes.push(Buffer.byteLength(data)), file.write(data)) };
      },
    };
    const store = await h.open({ dir, fs, segmentBytes: 1_000 });
    const c = store.collection(bigs);
    for (let n = 0; n < 12; n++) await c.insert({ blob: String(n).repeat(100 * 1024) });
    await store.close();

    // Snapshots grow as the log doubles (which ones run depends on how the writes interleave): at least one is
    // larger than a chunk, and none went out as a single large write.
    expect(writes.reduce((a, b) => a + b, 0)).toBeGreaterThan(400 * 1024);
    expect(Math.max(...writes)).toBeLessThan(400 * 1024);
    expect((await h.open({ dir })).collection(bigs).count()).toBe(12);
  });
});
