import { readFile } from 'node:fs/promises';

/** The text of remote.sh, which ships next to this module (in `src/remote/` and, once built, in `dist/`). */
export async function loadRemoteScript(): Promise<string> {
  return readFile(new URL('./remote.sh', import.meta.url), 'utf8');
}
