import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensionHost } from '../../tsup.config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What the library's main entry would drag in: storage, SSH (native addons), the facade, and the API server. */
const FORBIDDEN = ['lowdb', 'ssh2', 'packages/core/src/store', 'packages/core/src/comfy-vast', 'packages/core/src/index', 'fastify'];

let outDir: string;
let inputs: string[];

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'extension-bundle-'));
  // The extension host bundle exactly as packaged, minus minifying and maps, with esbuild's list of its inputs.
  await build({
    ...extensionHost,
    entry: { extension: join(root, 'src/extension.ts') },
    tsconfig: join(root, 'tsconfig.json'),
    outDir,
    metafile: true,
    minify: false,
    sourcemap: false,
    silent: true,
    config: false,
  });
  const meta = JSON.parse(await readFile(join(outDir, 'metafile-cjs.json'), 'utf8')) as { inputs: Record<string, unknown> };
  // esbuild names inputs relative to the working directory: absolute, the checks hold from any folder.
  inputs = Object.keys(meta.inputs).map((path) => resolve(path));
}, 120_000);
afterAll(async () => rm(outDir, { recursive: true, force: true }));

describe('the extension host bundle', () => {
  it('holds the API client, its contract and core’s workflow and clock modules', () => {
    const has = (fragment: string) => inputs.some((path) => path.includes(fragment));
    expect(has('packages/server/src/client/index.ts')).toBe(true);
    expect(has('packages/server/src/contract/index.ts')).toBe(true);
    expect(has('packages/core/src/workflow/')).toBe(true);
    expect(has('packages/core/src/util/clock.ts')).toBe(true);
  });

  it('holds neither storage nor SSH nor the server', () => {
    const found = inputs.filter((path) => FORBIDDEN.some((fragment) => path.includes(fragment)));
    expect(found).toEqual([]);
  });
});
