import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ApiPrompt } from '../../src/workflow/index.js';

const dir = fileURLToPath(new URL('./corpus/', import.meta.url));

export interface CorpusCase {
  name: string;
  description: string;
  ui: unknown;
  api: ApiPrompt;
}

const read = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8'));

/** Each case is a UI workflow (`<name>.ui.json`) and the API prompt the frontend makes of it (`<name>.api.json`). */
export function loadCorpus(): CorpusCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ui.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.ui.json'.length);
      const ui = read(file) as { extra?: { corpusDescription?: string } };
      return { name, description: ui.extra?.corpusDescription ?? name, ui, api: read(`${name}.api.json`) as ApiPrompt };
    });
}

export function loadCase(name: string): CorpusCase {
  const found = loadCorpus().find((c) => c.name === name);
  if (!found) throw new Error(`no corpus case ${name}`);
  return found;
}

/** The recorded object_info of a real server. */
export function realObjectInfo(): Record<string, unknown> {
  return JSON.parse(readFileSync('/work/shared/fixtures/comfyui/object_info.json', 'utf8')) as Record<string, unknown>;
}
