import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');

/** What a module loads when it runs: every `import`/`export ... from` and dynamic `import()` not marked `type`. */
function runtimeImports(text: string): string[] {
  const statements = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
  const bare = [...text.matchAll(/^import\s+'([^']+)'/gm)].map((m) => m[1]!);
  const dynamic = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
  return [...statements, ...bare, ...dynamic];
}

function modulesOf(folder: string): Array<[string, string]> {
  return readdirSync(join(src, folder))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`${folder}/${f}`, join(src, folder, f)]);
}

describe('the wire contract stands alone', () => {
  it.each(modulesOf('contract'))('%s loads only zod and the contract itself', (_name, file) => {
    const outside = runtimeImports(readFileSync(file, 'utf8')).filter((spec) => spec !== 'zod' && !spec.startsWith('./'));
    expect(outside).toEqual([]);
  });

  it.each(modulesOf('client'))('%s loads only the contract, zod and ws', (_name, file) => {
    const outside = runtimeImports(readFileSync(file, 'utf8')).filter((spec) => !['zod', 'ws'].includes(spec) && !spec.startsWith('./') && !spec.startsWith('../contract/'));
    expect(outside).toEqual([]);
  });

  it('tells a runtime import from a type import', () => {
    // The tests above are only as good as this scan.
    const text = [
      "import type { ErrorCode } from '@comfy-vast/core';",
      "import { z } from 'zod';",
      "import {\n  ComfyVastError,\n  type ErrorDetails,\n} from '@comfy-vast/core/errors';",
      "export { imageUrl } from './generations.js';",
      "export type { Fits } from './fits.js';",
      "import 'side-effect';",
      "const ws = await import('ws');",
    ].join('\n');
    expect(runtimeImports(text)).toEqual(['zod', '@comfy-vast/core/errors', './generations.js', 'side-effect', 'ws']);
  });
});
