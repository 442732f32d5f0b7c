/** `portrait.comfy.json` → `portrait`; `workflows/a b.json` → `a b`. */
export function workflowName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/(\.comfy)?\.json$/i, '') || 'workflow';
}

/** Folder names stay inside the output folder and readable on every OS. */
function safeSegment(name: string): string {
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

/** `<generation>_<n>.<ext>`, keeping the extension of the image URL (png when it has none). */
export function imageFileName(generationId: number, index: number, url: string): string {
  const ext = /\.(png|jpe?g|webp|gif)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase() ?? 'png';
  return `${generationId}_${index + 1}.${ext}`;
}
