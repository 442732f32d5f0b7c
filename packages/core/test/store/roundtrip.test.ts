import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changeAcrossBatches, faultyFs, filesIn, generation, generations, settings, storeHarness } from './helpers.js';

const h = storeHarness();

describe('LowdbStore files', () => {
  it('keeps a document collection in one file, with the next id and the named values in meta.json', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    const c = store.collection(settings);
    const a = await c.insert({ key: 'theme', value: 'dark' });
    const b = await c.insert({ key: 'lang', value: 'en' });
    await c.update(a.id, { value: 'light' });
    await c.delete(b.id);
    await store.setValue('installation', { publicKey: 'pk' });
    await store.close();
    expect(await filesIn(join(dir, 'collections'))).toEqual(['settings.json']);
    const onDisk = JSON.parse(await readFile(join(dir, 'collections', 'settings.json'), 'utf8'));
    expect(onDisk).toMatchObject({ nextId: 3, records: [{ id: 1, key: 'theme', value: 'light' }] });
    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).values).toEqual({ installation: { publicKey: 'pk' } });
  });

  it('reloads a log collection from its segments', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    const c = store.collection(generations);
    for (let n = 0; n < 20; n++) await c.insert(generation(n));
    await c.update(5, { status: 'completed' });
    await c.delete(7);
    await c.delete(20);
    const before = c.all();
    await store.close();
    expect((await filesIn(join(dir, 'collections'))).filter((f) => f.endsWith('.jsonl'))).toEqual(['generations.000001.jsonl']);

    const reopened = await h.open({ dir });
    const again = reopened.collection(generations);
    expect(again.all()).toEqual(before);
    expect(again.get(5)?.status).toBe('completed');
    expect((await again.insert(generation(99))).id).toBe(21);
  });

  it('compacts a log into a snapshot and removes the segments it covers, without changing what is read back', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir, segmentBytes: 2_000 });
    const c = store.collection(generations);
    for (let n = 0; n < 60; n++) await c.insert(generation(n));
    for (let id = 1; id <= 60; id += 3) await c.update(id, { status: 'failed' });
    const before = c.all();
    await store.close();
    const files = await filesIn(join(dir, 'collections'));
    expect(files).toContain('generations.json');
    const snapshot = JSON.parse(await readFile(join(dir, 'collections', 'generations.json'), 'utf8'));
    const segments = files.filter((f) => f.endsWith('.jsonl'));
    // Every segment left is newer than the snapshot.
    for (const f of segments) expect(Number(f.split('.')[1])).toBeGreaterThan(snapshot.segment);

    const again = (await h.open({ dir, segmentBytes: 2_000 })).collection(generations);
    expect(again.all()).toEqual(before);
  });

  it('skips and removes segments already in the snapshot, as a crash right after compaction leaves them', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    const c = store.collection(generations);
    await c.insert(generation(1));
    await c.update(1, { status: 'completed' });
    await store.close();
    const collections = join(dir, 'collections');
    const snapshot = { nextId: 2, segment: 1, records: [{ ...generation(1), id: 1, status: 'completed' }] };
    await writeFile(join(collections, 'generations.json'), JSON.stringify(snapshot));
    // Replaying this segment over the snapshot would be harmless here, but it must not even be read.
    await writeFile(join(collections, 'generations.000001.jsonl'), '{"op":"delete","id":1}\n');

    const again = (await h.open({ dir })).collection(generations);
    expect(again.all()).toEqual(snapshot.records);
    expect(await filesIn(collections)).toEqual(['generations.json']);
  });

  it('reads a collection written as a log when it is declared a document, and folds its segments in on the first write', async () => {
    const dir = await h.dir();
    const asLog = { ...settings, kind: 'log' as const };
    const store = await h.open({ dir });
    await store.collection(asLog).insert({ key: 'a', value: '1' });
    await store.collection(asLog).insert({ key: 'b', value: '2' });
    await store.close();

    const reopened = await h.open({ dir });
    const c = reopened.collection(settings);
    expect(c.all().map((r) => r.key)).toEqual(['a', 'b']);
    await c.update(2, { value: '3' });
    expect(await filesIn(join(dir, 'collections'))).toEqual(['settings.json']);
    await reopened.close();
    expect((await h.open({ dir })).collection(settings).all()).toEqual([
      { id: 1, key: 'a', value: '1' },
      { id: 2, key: 'b', value: '3' },
    ]);
  });

  it('writes a burst of changes made in one tick with one file write', async () => {
    const dir = await h.dir();
    const fs = faultyFs(() => undefined);
    const store = await h.open({ dir, fs });
    const c = store.collection(settings);
    await Promise.all([c.insert({ key: 'k', value: '1' }), c.update(1, { value: '2' }), c.insert({ key: 'other', value: 'x' }), c.delete(2), c.update(1, { value: '3' })]);
    expect(fs.calls.filter((call) => call.op === 'rename' && call.path.endsWith('settings.json'))).toHaveLength(1);
  });

  it('keeps the order of changes to a log across batches', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    const c = store.collection(generations);
    await changeAcrossBatches(c);
    await store.close();
    const lines = (await readFile(join(dir, 'collections', 'generations.000001.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.op}:${l.record?.id ?? l.id}:${l.record?.status ?? ''}`)).toEqual([
      'put:1:queued',
      'put:1:running',
      'put:1:completed',
      'delete:1:',
      'put:2:queued',
      'put:2:queued',
    ]);
  });

  it('flush resolves once every write made so far is on disk', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    const c = store.collection(generations);
    for (let n = 0; n < 5; n++) void c.insert(generation(n));
    void store.setValue('k', 1);
    await store.flush();
    const text = await readFile(join(dir, 'collections', 'generations.000001.jsonl'), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(5);
    expect(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).values).toEqual({ k: 1 });
  });

  it('releases the data directory on close', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    expect(await filesIn(dir)).toContain('comfy-vast.lock');
    await store.close();
    expect(await filesIn(dir)).not.toContain('comfy-vast.lock');
  });
});
