import type { ComfyExecutionError, ComfyFileRef, ComfyUiOutput } from '../comfy/index.js';
import type { GenerationError } from './records.js';

/** The spec's error summary for a ComfyUI execution error: "Out of memory" for an OOM, else the exception type. */
export function describeExecutionError(error: ComfyExecutionError | undefined): GenerationError {
  if (!error) return { error: 'Generation failed', node: null, details: 'ComfyUI reported an error without details' };
  const oom = /OutOfMemory|out of memory/i.test(`${error.exception_type} ${error.exception_message}`);
  return {
    error: oom ? 'Out of memory' : error.exception_type || 'Generation failed',
    node: error.node_type ?? null,
    details: error.exception_message.trim(),
  };
}

/** Image files named in a node's UI output (`images`, and `gifs` as video nodes call theirs). */
export function imagesOf(output: ComfyUiOutput): ComfyFileRef[] {
  const files: ComfyFileRef[] = [];
  for (const key of ['images', 'gifs']) {
    const list = output[key];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (item && typeof item === 'object' && typeof (item as ComfyFileRef).filename === 'string') {
        const f = item as Partial<ComfyFileRef> & { filename: string };
        files.push({ filename: f.filename, subfolder: f.subfolder ?? '', type: f.type ?? 'output' });
      }
    }
  }
  return files;
}

export const sourceKey = (f: ComfyFileRef): string => `${f.type}/${f.subfolder}/${f.filename}`;
