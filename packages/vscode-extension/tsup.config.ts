import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';
import type { Options } from 'tsup';

// Workspace packages are bundled from their TypeScript sources, so packaging needs no prior build.
// Core's workflow module alone: core's main entry also carries the SSH and storage code (native addons).
const CORE_WORKFLOW = fileURLToPath(new URL('../core/src/workflow/index.ts', import.meta.url));

const fromSources: Options['esbuildOptions'] = (options) => {
  options.conditions = ['source'];
  options.alias = { '@comfy-vast/core/workflow': CORE_WORKFLOW };
  // jsonc-parser's "main" is a UMD build whose inner requires esbuild cannot follow; its ESM build bundles cleanly.
  options.mainFields = ['module', 'main'];
};

export default defineConfig([
  {
    entry: { extension: 'src/extension.ts' },
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    outExtension: () => ({ js: '.cjs' }),
    external: ['vscode'],
    noExternal: [/.*/],
    sourcemap: true,
    clean: true,
    esbuildOptions: fromSources,
  },
  {
    entry: { webview: 'src/webview/main.ts' },
    format: ['iife'],
    platform: 'browser',
    target: 'es2022',
    noExternal: [/.*/],
    outExtension: () => ({ js: '.js' }),
    esbuildOptions: fromSources,
  },
  {
    // The suite that runs inside a real extension host (code-server); never shipped in the .vsix.
    entry: { 'host-tests': 'test/host/index.ts' },
    outDir: 'dist/test',
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    outExtension: () => ({ js: '.cjs' }),
    external: ['vscode'],
    noExternal: [/.*/],
    esbuildOptions: fromSources,
  },
]);
