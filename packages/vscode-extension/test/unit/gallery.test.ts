import { describe, expect, it } from 'vitest';
import { readGallery, writeGallery, type GalleryEntry } from '../../src/generate/gallery.js';

const entry: GalleryEntry = {
  id: '2026-11-27T14:23:05.000Z#7',
  workflow: 'workflows/txt2img.comfy.json',
  time: '2026-11-27T14:23:05.000Z',
  server: { name: 'gpu-1', id: 1, apiUrl: 'http://127.0.0.1:5000' },
  generationId: 7,
  seed: 42,
  prompt: 'a lighthouse',
  parameters: { steps: 20 },
  images: ['20261127-142305_gpu-1_7_1.png'],
};

describe('the gallery file', () => {
  it('reads back what it wrote', () => {
    expect(readGallery(writeGallery([entry]))).toEqual([entry]);
  });

  it('drops an entry whose image name would lead out of its folder, and keeps the others', () => {
    const hostile = [{ ...entry, id: 'a', images: ['../../.ssh/id_rsa'] }, { ...entry, id: 'b', images: ['..'] }, { ...entry, id: 'c', images: ['sub\\\\x.png'] }, entry];
    expect(readGallery(JSON.stringify({ version: 1, entries: hostile })).map((e) => e.id)).toEqual([entry.id]);
  });

  it('reads a broken or foreign file as an empty gallery', () => {
    expect(readGallery('{"version": 1, "entries": [')).toEqual([]);
    expect(readGallery('{"something": "else"}')).toEqual([]);
    expect(readGallery(undefined)).toEqual([]);
  });
});
