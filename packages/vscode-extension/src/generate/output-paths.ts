/** `portrait.comfy.json` → `portrait`; `workflows/a b.json` → `a b`. */
export function workflowName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/(\.comfy)?\.json$/i, '') || 'workflow';
}

/** File and folder names stay inside the output folder and readable on every OS. */
export function safeSegment(name: string): string {
  const printable = [...name].map((c) => (c.charCodeAt(0) < 32 ? '_' : c)).join('');
  const cleaned = printable.replace(/[<>:"/\\|?*]/g, '_').replace(/^\.+/, '_').trim();
  return cleaned || 'workflow';
}

/**
 * Where the images of one generation go, relative to the workspace folder: `<output folder>/<workflow name>/`.
 * The setting is a relative path; anything that would leave the workspace is refused.
 */
export function outputSegments(setting: string, fileName: string): string[] {
  const parts = setting.split(/[\\/]+/).filter((p) => p && p !== '.');
  if (parts.length === 0 || parts.includes('..') || /^([a-z]:|[\\/])/i.test(setting)) {
    throw new Error(`"comfyVast.outputFolder" must be a folder inside the workspace, not "${setting}"`);
  }
  return [...parts, safeSegment(workflowName(fileName))];
}

/** The extension of an image URL (png when it has none). */
export function imageExtension(url: string): string {
  return /\.(png|jpe?g|webp|gif)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase() ?? 'png';
}

/** `20261127-142305` (UTC): sorts by time in a folder listing. */
export function timeStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export interface ImageNaming {
  /** When the images were saved (ms since the epoch). */
  time: number;
  server: string;
  generationId: number;
  index: number;
  url: string;
}

/**
 * `<time>_<server>_<generation>_<n>.<ext>`: generation ids restart on another API server or data folder, so the
 * time and the server name keep two runs apart (and a name already taken gets a suffix when saving).
 */
export function imageFileName(o: ImageNaming): string {
  return `${timeStamp(o.time)}_${safeSegment(o.server).replace(/\s+/g, '-')}_${o.generationId}_${o.index + 1}.${imageExtension(o.url)}`;
}

/** `name.png`, then `name-2.png`, `name-3.png`…: the candidates for a file that must not replace another. */
export function numberedName(name: string, n: number): string {
  if (n <= 1) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
}
