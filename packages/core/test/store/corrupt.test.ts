import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesIn, generation, generations, settings, storeHarness } from './helpers.js';

const h = storeHarness();

async function seededLog(dir: string, count: number): Promise<string> {
  const store = await h.open({ dir });
  const c = store.collection(generations);
  for (let n = 1; n <= count; n++) await c.insert(generation(n));
  await store.close();
  return join(dir, 'collections', 'generations.000001.jsonl');
}

describe('damaged files', () => {
  it('refuses to open over a document file that is not JSON, naming it and leaving it untouched', async () => {
    const dir = await h.dir();
    const store = await h.open({ dir });
    await store.collection(settings).insert({ key: 'a', value: '1' });
    await store.close();
    const file = join(dir, 'collections', 'settings.json');
    await writeFile(file, '{"nextId":2,"segment":0,"records":[{"id":1,"ke');

    const error = await h.open({ dir }).catch((e: unknown) => e);
    // Named within the data directory: store errors can reach an API answer, which never shows a path.
    expect(error).toMatchObject({ code: 'STORE_ERROR', details: { file: 'collections/settings.json' } });
    expect((error as Error).message).toContain('collections/settings.json is corrupt: it is not valid JSON');
    expect((error as Error).message).not.toContain(dir);
    expect((error as Error).message).toMatch(/restore it from a backup/);
    expect(await readFile(file, 'utf8')).toBe('{"nextId":2,"segment":0,"records":[{"id":1,"ke');
    expect(await filesIn(dir)).not.toContain('comfy-vast.lock');
  });

  it('refuses a document file of the wrong shape', async () => {
    const dir = await h.dir();
    await mkdir(join(dir, 'collections'), { recursive: true });
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ schemaVersion: 1, values: {} }));
    const file = join(dir, 'collections', 'settings.json');
    await writeFile(file, JSON.stringify({ records: 'none' }));
    await expect(h.open({ dir })).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringContaining(`${relative(dir, file)} is corrupt: it does not have the expected shape`) });
  });

  it('reports a record that fails its schema with its file and id when the collection is asked for', async () => {
    const dir = await h.dir();
    const segment = await seededLog(dir, 3);
    const lines = (await readFile(segment, 'utf8')).trim().split('\n');
    const bad = JSON.parse(lines[1]!);
    bad.record.status = 'exploded';
    lines[1] = JSON.stringify(bad);
    await writeFile(segment, `${lines.join('\n')}\n`);

    const store = await h.open({ dir });
    expect(() => store.collection(generations)).toThrow(expect.objectContaining({ code: 'STORE_ERROR', details: expect.objectContaining({ file: relative(dir, segment), id: 2 }) }));
    expect(() => store.collection(generations)).toThrow(/record 2 of collection generations does not match its schema .* at status/);
  });

  it('ignores a torn last line of a log segment: the write it belonged to was never acknowledged', async () => {
    const dir = await h.dir();
    const segment = await seededLog(dir, 3);
    const text = await readFile(segment, 'utf8');
    await writeFile(segment, `${text}{"op":"put","record":{"id":4,"userId":1,"serv`);

    const store = await h.open({ dir });
    const c = store.collection(generations);
    expect(c.all().map((g) => g.id)).toEqual([1, 2, 3]);
    // New changes go to a new segment, so the torn line stays the last of its own.
    expect((await c.insert(generation(9))).id).toBe(4);
    await store.close();
    expect((await filesIn(join(dir, 'collections'))).filter((f) => f.endsWith('.jsonl'))).toEqual(['generations.000001.jsonl', 'generations.000002.jsonl']);
    const again = (await h.open({ dir })).collection(generations);
    expect(again.all().map((g) => g.id)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a log segment with a damaged line before its end, naming the file and line', async () => {
    const dir = await h.dir();
    const segment = await seededLog(dir, 3);
    const lines = (await readFile(segment, 'utf8')).split('\n');
    lines[1] = lines[1]!.slice(0, 20);
    await writeFile(segment, lines.join('\n'));
    await expect(h.open({ dir })).rejects.toMatchObject({
      code: 'STORE_ERROR',
      details: { file: relative(dir, segment), line: 2 },
      message: expect.stringContaining('line 2 is not valid JSON'),
    });
  });
});
