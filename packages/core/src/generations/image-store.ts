import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ViewResult } from '../comfy/index.js';

const EXT_BY_TYPE: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
const TYPE_BY_EXT: Record<string, string> = Object.fromEntries(Object.entries(EXT_BY_TYPE).map(([t, e]) => [e, t]));
const NAME = /^(\d+)_(\d+)\.(png|jpg|webp|gif)$/;

export interface StoredImage {
  path: string;
  contentType: string;
  size: number;
  etag: string;
  modified: Date;
}

/** Generated images on disk, named `<generationId>_<n>.<ext>` with the extension of their real type. */
export class ImageStore {
  constructor(readonly dir: string) {}

  /** The generation an image name belongs to, or undefined for a name that is not one of ours. */
  static generationOf(file: string): number | undefined {
    const m = NAME.exec(file);
    return m ? Number(m[1]) : undefined;
  }

  /** Streams a ComfyUI file to disk (through a temporary name, so a crash leaves no half image). */
  async save(generationId: number, n: number, view: ViewResult, sourceName: string): Promise<string> {
    const ext = EXT_BY_TYPE[view.contentType.split(';')[0]!.trim().toLowerCase()] ?? extOf(sourceName) ?? 'png';
    const file = `${generationId}_${n}.${ext}`;
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
    const m = NAME.exec(file);
    if (!m) return undefined;
    const path = join(this.dir, file);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    const etag = `"${createHash('sha1').update(`${file}:${s.size}:${s.mtimeMs}`).digest('hex').slice(0, 20)}"`;
    return { path, contentType: TYPE_BY_EXT[m[3]!]!, size: s.size, etag, modified: s.mtime };
  }
}

function extOf(name: string): string | undefined {
  const ext = name.split('.').pop()?.toLowerCase();
  if (ext === 'jpeg') return 'jpg';
  return ext && ext in TYPE_BY_EXT ? ext : undefined;
}
