import { ComfyVastError } from '../errors/index.js';
import { errnoCode } from './fs.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EIO: 'an input/output error occurred',
};

/** The folders of the data directory (see Layout); a file is named from the first of them down. */
const DATA_FOLDERS = new Set(['collections', 'backups']);

/**
 * A data file's name as errors say it: relative to the data directory (`collections/workflows.000001.jsonl`),
 * never absolute, since store errors can reach an API answer. The absolute path stays in the error's cause,
 * which only the server's log shows.
 */
export function dataFileName(file: string): string {
  const parts = file.split(/[\\/]/).filter(Boolean);
  const folder = parts.findIndex((part) => DATA_FOLDERS.has(part));
  return folder >= 0 ? parts.slice(folder).join('/') : (parts.at(-1) ?? file);
}

/** A failed file operation, said in words an operator can act on, naming the file. */
export function fileError(action: string, file: string, cause: unknown): ComfyVastError {
  if (cause instanceof ComfyVastError) return cause;
  const code = errnoCode(cause);
  // Node's own messages quote the absolute path; the errno code says the same without it.
  const reason = (code && (REASONS[code] ?? `error ${code}`)) ?? (cause instanceof Error ? cause.message : String(cause));
  const name = dataFileName(file);
  return new ComfyVastError('STORE_ERROR', `Could not ${action} ${name}: ${reason}`, {
    details: { file: name, ...(code ? { errno: code } : {}) },
    cause,
  });
}

/**
 * A data file that cannot be read as what it should hold. The store never rewrites or moves it, so nothing
 * is lost: the operator restores it from a backup or moves it away to start that collection empty.
 */
export function corruptFileError(file: string, problem: string, details: Record<string, unknown> = {}, cause?: unknown): ComfyVastError {
  const name = dataFileName(file);
  return new ComfyVastError(
    'STORE_ERROR',
    `Data file ${name} is corrupt: ${problem}. It was left untouched; restore it from a backup (see the backups folder of the data directory) or move it away to start without its records.`,
    { details: { file: name, ...details }, cause },
  );
}

/** Said to API callers during shutdown, so it names nothing of the machine or the deployment. */
export function closedError(): ComfyVastError {
  return new ComfyVastError('STORE_ERROR', 'The store is closed (the server is shutting down); the write was not made', { details: { reason: 'closed' } });
}
