import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';
import type { Options } from 'tsup';

// Workspace packages are bundled from their TypeScript sources, so packaging needs no prior build.
// Core's workflow module alone: core's main entry also carries the SSH and storage code (native addons), which the
// extension must never bundle; it takes only core's `workflow` and `clock` entries and the API's client and contract.
const CORE_WORKFLOW = fileURLToPath(new URL('../core/src/workflow/index.ts', import.meta.url));

/** Everything but the `vscode` module, which only the extension host provides. */
const BUNDLED = [/^(?!vscode$)/];

const fromSources: Options['esbuildOptions'] = (options) => {
  options.conditions = ['source'];
  options.alias = { '@comfy-vast/core/workflow': CORE_WORKFLOW };
  // jsonc-parser's "main" is a UMD build whose inner requires esbuild cannot follow; its ESM build bundles cleanly.
  options.mainFields = ['module', 'main'];
};

/** What runs in the extension host: CommonJS for Node, `vscode` left to the host (test/unit/bundle.test.ts builds it too). */
export const extensionHost: Options = {
  format: ['cjs'],
  platform: 'node',
  target: 'node20',
  outExtension: () => ({ js: '.cjs' }),
  external: ['vscode'],
  noExternal: BUNDLED,
  esbuildOptions: fromSources,
};

export default defineConfig([
  { ...extensionHost, entry: { extension: 'src/extension.ts' }, minify: true, sourcemap: true, clean: true },
  {
    entry: { webview: 'src/webview/main.ts' },
    format: ['iife'],
    platform: 'browser',
    target: 'es2022',
    noExternal: BUNDLED,
    minify: true,
    outExtension: () => ({ js: '.js' }),
    esbuildOptions: fromSources,
  },
  // The suite that runs inside a real extension host (code-server); never shipped in the .vsix.
  { ...extensionHost, entry: { 'host-tests': 'test/host/index.ts' }, outDir: 'dist/test' },
]);
