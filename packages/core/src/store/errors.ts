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

/** A failed file operation, said in words an operator can act on, naming the file. */
export function fileError(action: string, file: string, cause: unknown): ComfyVastError {
  if (cause instanceof ComfyVastError) return cause;
  const code = errnoCode(cause);
  const reason = (code && REASONS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
  return new ComfyVastError('STORE_ERROR', `Could not ${action} ${file}: ${reason}`, {
    details: { file, ...(code ? { errno: code } : {}) },
    cause,
  });
}

/**
 * A data file that cannot be read as what it should hold. The store never rewrites or moves it, so nothing
 * is lost: the operator restores it from a backup or moves it away to start that collection empty.
 */
export function corruptFileError(file: string, problem: string, details: Record<string, unknown> = {}, cause?: unknown): ComfyVastError {
  return new ComfyVastError(
    'STORE_ERROR',
    `Data file ${file} is corrupt: ${problem}. It was left untouched; restore it from a backup (see the backups folder of the data directory) or move it away to start without its records.`,
    { details: { file, ...details }, cause },
  );
}
