import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ViewResult } from '../comfy/index.js';
import { imageEtag, imageName, parseImageName, type ImageStore, type StoredImage } from './image-store.js';

/** Images as files of one directory: the data directory's `images`, or one that several installations mount. */
export class DirectoryImageStore implements ImageStore {
  constructor(readonly dir: string) {}

  /** Streams a ComfyUI file to disk (through a temporary name, so a crash leaves no half image). */
  async save(generationId: number, n: number, view: ViewResult, sourceName: string): Promise<string> {
    const file = imageName(generationId, n, view, sourceName);
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${file}.part`);
    try {
      await pipeline(view.stream, createWriteStream(tmp));
      await rename(tmp, join(this.dir, file));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return file;
  }

  async stat(file: string): Promise<StoredImage | undefined> {
    const name = parseImageName(file);
    if (!name) return undefined;
    const path = join(this.dir, file);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    return { contentType: name.contentType, size: s.size, etag: imageEtag(file, s.size, s.mtimeMs), modified: s.mtime, open: () => createReadStream(path) };
  }
}
