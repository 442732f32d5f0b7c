import { ComfyVastError } from '../errors/index.js';

/**
 * The one way a value reaches a remote shell: single-quoted, with each `'` closed, escaped and reopened, so the
 * shell takes every byte literally (`$(...)`, backticks, `;`, newlines, globs). NUL cannot travel in an argument,
 * so it is refused rather than silently cut.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new ComfyVastError('VALIDATION_ERROR', 'A value for the server contains a NUL character');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A command line of quoted words. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
