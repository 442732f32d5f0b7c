import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ComfyVast,
  DatabaseImageStore,
  DirectoryImageStore,
  ManualClock,
  MAX_DATABASE_IMAGE_BYTES,
  isComfyVastError,
  type ImageStore,
  type ViewResult,
} from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';
import { eventOf, harness, OTHER_USER, request, SERVER, USER, type Harness } from './setup.js';

const pg = postgresHarness();
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('image bytes')]);

function view(bytes: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>, contentType = 'image/png'): ViewResult {
  const chunks = Buffer.isBuffer(bytes) ? [bytes] : bytes;
  return { stream: Readable.from(chunks), contentType, contentLength: undefined };
}

interface Place {
  /** The store, and what another process on the same installation would open. */
  store: ImageStore;
  reopen(): Promise<ImageStore>;
  clock: ManualClock;
  /** What is left behind besides the images (a directory's stray files; nothing for the database). */
  leftovers(): Promise<string[]>;
}

const places: Record<'directory' | 'database', () => Promise<Place>> = {
  async directory() {
    const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-images-'));
    dirs.push(dir);
    const clock = new ManualClock(Date.parse('2026-01-01T12:00:00Z'));
    return {
      store: new DirectoryImageStore(dir),
      reopen: async () => new DirectoryImageStore(dir),
      clock,
      leftovers: async () => (await readdir(dir).catch(() => [])).filter((file) => file.startsWith('.')),
    };
  },
  async database() {
    const schema = pg.schema();
    const clock = new ManualClock(Date.parse('2026-01-01T12:00:00Z'));
    const store = new DatabaseImageStore({ store: await pg.open({ schema }), clock });
    return {
      store,
      reopen: async () => new DatabaseImageStore({ store: await pg.open({ schema }), clock }),
      clock,
      leftovers: async () => [],
    };
  },
};

describe.each(['directory', 'database'] as const)('the %s image store', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('keeps an image under the name of its real type, and serves it with its type, size, date and ETag to another process', async () => {
    const { store, reopen } = await places[kind]();
    expect(await store.save(7, 1, view(PNG), 'ComfyUI_00001_.png')).toBe('7_1.png');
    // The type ComfyUI answers with wins over the file's name; without a known type, the name's extension.
    expect(await store.save(7, 2, view(PNG, 'image/jpeg'), 'ComfyUI_00002_.png')).toBe('7_2.jpg');
    expect(await store.save(7, 3, view(PNG, 'application/octet-stream'), 'ComfyUI_00003_.webp')).toBe('7_3.webp');

    const image = (await store.stat('7_1.png'))!;
    expect(image).toMatchObject({ contentType: 'image/png', size: PNG.length, etag: expect.stringMatching(/^"[0-9a-f]{20}"$/), modified: expect.any(Date) });
    expect(await buffer(image.open())).toEqual(PNG);
    expect((await store.stat('7_2.jpg'))?.contentType).toBe('image/jpeg');
    expect((await store.stat('7_3.webp'))?.contentType).toBe('image/webp');

    const elsewhere = await reopen();
    const there = (await elsewhere.stat('7_1.png'))!;
    expect({ ...there, open: undefined }).toEqual({ ...image, open: undefined });
    expect(await buffer(there.open())).toEqual(PNG);
  });

  it('replaces an image saved again, with a new ETag', async () => {
    const { store, clock } = await places[kind]();
    await store.save(8, 1, view(PNG), 'a.png');
    const first = (await store.stat('8_1.png'))!;
    clock.advance(1000);
    const larger = Buffer.concat([PNG, PNG]);
    await store.save(8, 1, view(larger), 'a.png');
    const second = (await store.stat('8_1.png'))!;
    expect(second.size).toBe(larger.length);
    expect(second.etag).not.toBe(first.etag);
    expect(await buffer(second.open())).toEqual(larger);
  });

  it('knows nothing of names that are not its own, nor of images it does not hold', async () => {
    const { store } = await places[kind]();
    await store.save(9, 1, view(PNG), 'a.png');
    for (const name of ['9_2.png', '9_1.jpg', '../9_1.png', '9_1.png/', 'x.png', '9_1.txt', '.9_1.png.part', '']) {
      expect(await store.stat(name), name).toBeUndefined();
    }
  });

  it('keeps nothing of an image whose download fails part-way', async () => {
    const { store, leftovers } = await places[kind]();
    async function* broken() {
      yield PNG;
      throw new Error('ComfyUI went away');
    }
    await expect(store.save(10, 1, view(broken()), 'a.png')).rejects.toThrow('ComfyUI went away');
    expect(await store.stat('10_1.png')).toBeUndefined();
    expect(await leftovers()).toEqual([]);
  });

  it("serves a generation's images from ComfyUI to their owner only, another user's as a missing one", async () => {
    const { store } = await places[kind]();
    h = await harness({}, { images: store });
    const { generationId } = await h.service.generate(USER, SERVER, request(1));
    const complete = await eventOf(h, generationId, 'complete');
    const file = `${generationId}_1.png`;
    expect(complete.data).toMatchObject({ images: [file] });
    const image = await h.service.getImage(USER, file);
    const bytes = await buffer(image.open());
    expect(image).toMatchObject({ contentType: 'image/png', size: bytes.length });
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    const missing = await h.service.getImage(USER, '999_1.png').catch((err: unknown) => err);
    const others = await h.service.getImage(OTHER_USER, file).catch((err: unknown) => err);
    expect(isComfyVastError(missing, 'NOT_FOUND') && isComfyVastError(others, 'NOT_FOUND')).toBe(true);
    expect((others as Error).message).toBe((missing as Error).message.replace('999_1.png', file));
  });
});

describe('the database image store', () => {
  it(`refuses an image over ${MAX_DATABASE_IMAGE_BYTES / 1024 / 1024} MiB, which it would hold in memory whole`, async () => {
    const { store } = await places.database();
    const chunk = Buffer.alloc(1024 * 1024);
    function* huge() {
      for (let i = 0; i <= MAX_DATABASE_IMAGE_BYTES / chunk.length; i++) yield chunk;
    }
    const error = await store.save(11, 1, view(huge()), 'a.png').catch((err: unknown) => err);
    expect(isComfyVastError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(await store.stat('11_1.png')).toBeUndefined();
  });

  it('is chosen on the facade with the records in PostgreSQL, and refused without them or beside an images directory', async () => {
    const codeOf = (p: Promise<unknown>) => p.then(() => 'opened', (err: unknown) => (isComfyVastError(err) ? `${err.code}: ${err.message}` : String(err)));
    expect(await codeOf(ComfyVast.open({ images: 'database', autoStart: false }))).toMatch(/^VALIDATION_ERROR: Images can be kept in the database only when the records are in PostgreSQL/);
    const store = await pg.open({ schema: pg.schema() });
    expect(await codeOf(ComfyVast.open({ store, images: 'database', imagesDir: tmpdir(), autoStart: false }))).toMatch(/^VALIDATION_ERROR: Images are kept in the database, so `imagesDir` has no use/);
    const comfyVast = await ComfyVast.open({ store, images: 'database', autoStart: false });
    await comfyVast.close();
  });
});
