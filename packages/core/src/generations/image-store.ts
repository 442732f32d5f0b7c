import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ViewResult } from '../comfy/index.js';

const EXT_BY_TYPE: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
const TYPE_BY_EXT: Record<string, string> = Object.fromEntries(Object.entries(EXT_BY_TYPE).map(([t, e]) => [e, t]));
const NAME = /^(\d+)_(\d+)\.(png|jpg|webp|gif)$/;

/** A stored image as served: what conditional requests compare, and its bytes on demand. */
export interface StoredImage {
  contentType: string;
  size: number;
  etag: string;
  modified: Date;
  /** The image's bytes from the start; nothing is read before this is called (a 304 reads none). */
  open(): Readable;
}

/**
 * Where generated images are kept, named `<generationId>_<n>.<ext>` with the extension of their real type: a
 * directory (DirectoryImageStore) or the PostgreSQL database of the records (DatabaseImageStore).
 */
export interface ImageStore {
  /** Keeps a ComfyUI file as image `n` of a generation and returns its name; saving it again replaces it. */
  save(generationId: number, n: number, view: ViewResult, sourceName: string): Promise<string>;
  /** The image of that name, or undefined when there is none or the name is not one of ours. */
  stat(file: string): Promise<StoredImage | undefined>;
}

/** What an image name says: its generation, its number and its type; undefined for a name that is not one of ours. */
export function parseImageName(file: string): { generationId: number; n: number; contentType: string } | undefined {
  const m = NAME.exec(file);
  return m ? { generationId: Number(m[1]), n: Number(m[2]), contentType: TYPE_BY_EXT[m[3]!]! } : undefined;
}

/** The name image `n` of a generation gets: the extension of the type ComfyUI gave, else of its file name, else png. */
export function imageName(generationId: number, n: number, view: ViewResult, sourceName: string): string {
  const ext = EXT_BY_TYPE[view.contentType.split(';')[0]!.trim().toLowerCase()] ?? extOf(sourceName) ?? 'png';
  return `${generationId}_${n}.${ext}`;
}

/** An image's ETag: it changes whenever the image is saved again. */
export function imageEtag(file: string, size: number, modifiedMs: number): string {
  return `"${createHash('sha1').update(`${file}:${size}:${modifiedMs}`).digest('hex').slice(0, 20)}"`;
}

function extOf(name: string): string | undefined {
  const ext = name.split('.').pop()?.toLowerCase();
  if (ext === 'jpeg') return 'jpg';
  return ext && ext in TYPE_BY_EXT ? ext : undefined;
}
