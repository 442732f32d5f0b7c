import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errno, faultyFs, filesIn, settings, storeHarness } from './helpers.js';

const h = storeHarness();

async function seeded(dir: string): Promise<string> {
  const store = await h.open({ dir });
  await store.collection(settings).insert({ key: 'theme', value: 'dark' });
  await store.close();
  return readFile(join(dir, 'collections', 'settings.json'), 'utf8');
}

describe('atomic writes', () => {
  it('leaves the previous file intact when the process dies between write and rename, and the next open recovers', async () => {
    const dir = await h.dir();
    const original = await seeded(dir);
    // The temp file is written and fsynced, then the rename never happens: what a crash at that point leaves.
    const crashed = faultyFs((op) => (op === 'rename' ? errno('EIO') : undefined));
    const store = await h.open({ dir, fs: crashed });
    const c = store.collection(settings);
    await expect(c.update(1, { value: 'light' })).rejects.toMatchObject({ code: 'STORE_ERROR' });
    expect(c.get(1)?.value).toBe('dark');
    expect(await readFile(join(dir, 'collections', 'settings.json'), 'utf8')).toBe(original);
    await store.close();

    const again = await h.open({ dir });
    expect(again.collection(settings).get(1)?.value).toBe('dark');
  });

  it('removes stray temp files beside an unchanged original on open', async () => {
    const dir = await h.dir();
    const original = await seeded(dir);
    const stray = join(dir, 'collections', 'settings.json.tmp-4242-0badc0de');
    await writeFile(stray, '{"nextId":9,"segment":0,"records":[{"id":1,"key":"the');
    await writeFile(join(dir, 'meta.json.tmp-4242-deadbeef'), '');

    const store = await h.open({ dir });
    expect(store.collection(settings).all()).toEqual([{ id: 1, key: 'theme', value: 'dark' }]);
    expect(await filesIn(join(dir, 'collections'))).toEqual(['settings.json']);
    expect((await filesIn(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(await readFile(join(dir, 'collections', 'settings.json'), 'utf8')).toBe(original);
  });
});
