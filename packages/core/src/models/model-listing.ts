import type { ModelFileLine } from '../remote/lines.js';
import { formatBytes } from './format.js';

/** One model file of a server, as the API lists it. */
export interface ModelEntry {
  name: string;
  /** "6.94 GB", or "unknown" where comfy-vast cannot see the file (an attached ComfyUI: no shell there). */
  size: string;
  /** Null when unknown: no shell on the server, or a file not complete yet whose total is not known. */
  bytes: number | null;
  /** False while the file is queued or partly downloaded: ComfyUI cannot load it yet. */
  downloaded: boolean;
  /** The folder on the server (`/workspace/ComfyUI/models/loras/`); relative (`models/loras/`) when unknown. */
  path: string;
}

/** Every model folder ComfyUI reports, with its files. */
export type ModelListing = Record<string, ModelEntry[]>;

export interface ListingSources {
  /** ComfyUI's own lists (`GET /models`, `GET /models/{folder}`): what it can load. */
  comfy: Record<string, readonly string[]>;
  /** The server's files (remote.sh `models`), with sizes and partial downloads; null without a shell. */
  files: readonly ModelFileLine[] | null;
  /** Downloads not over yet, shown as not downloaded until ComfyUI lists them. */
  pending: ReadonlyArray<{ folder: string; filename: string; totalBytes: number | null }>;
  /** The server's models folder; null when unknown. */
  modelsDir: string | null;
}

/** Holds extensions, not models: ComfyUI reports it among its folders all the same. */
const NOT_MODELS = new Set(['custom_nodes']);

/**
 * The listing of a server's models: ComfyUI says which files are usable, the server's file list gives their sizes,
 * and partial or queued downloads appear as not downloaded.
 */
export function buildModelListing(sources: ListingSources): ModelListing {
  const sizes = new Map<string, ModelFileLine>();
  for (const file of sources.files ?? []) sizes.set(`${file.folder}/${file.name}`, file);
  const listing: ModelListing = {};
  const pathOf = (folder: string) => (sources.modelsDir === null ? `models/${folder}/` : `${sources.modelsDir}/${folder}/`);
  const entry = (folder: string, name: string, bytes: number | null, downloaded: boolean): ModelEntry => ({
    name,
    size: bytes === null ? 'unknown' : formatBytes(bytes),
    bytes,
    downloaded,
    path: pathOf(folder),
  });
  for (const [folder, names] of Object.entries(sources.comfy)) {
    if (NOT_MODELS.has(folder)) continue;
    listing[folder] = names.map((name) => {
      const file = sizes.get(`${folder}/${name.replaceAll('\\', '/')}`);
      return entry(folder, name, file && !file.partial ? file.bytes : null, true);
    });
  }
  for (const download of sources.pending) {
    const files = (listing[download.folder] ??= []);
    if (files.some((f) => f.name === download.filename)) continue;
    files.push(entry(download.folder, download.filename, download.totalBytes, false));
  }
  for (const file of sources.files ?? []) {
    // A partial file no download of ours is fetching (one cut before a restart of the box, or another tool's).
    if (!file.partial || !(file.folder in listing) || listing[file.folder]!.some((f) => f.name === file.name)) continue;
    listing[file.folder]!.push(entry(file.folder, file.name, null, false));
  }
  return listing;
}
