import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';
import type { Options } from 'tsup';
import type { Plugin } from 'esbuild';

// Workspace packages are bundled from their TypeScript sources, so packaging needs no prior build.
// Core's workflow module alone: core's main entry also carries the SSH and storage code (native addons).
const CORE_WORKFLOW = fileURLToPath(new URL('../core/src/workflow/index.ts', import.meta.url));

/** Everything but the `vscode` module, which only the extension host provides. */
const BUNDLED = [/^(?!vscode$)/];

const CORE_SOURCES = fileURLToPath(new URL('../core/src/', import.meta.url));

/**
 * Core's modules only declare things: marking them free of side effects lets esbuild drop the ones the
 * extension never uses (storage, SSH with its native addons) even when they come in through core's main entry.
 */
const coreWithoutSideEffects: Plugin = {
  name: 'core-without-side-effects',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'inner') return undefined;
      const result = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
      return result.path.startsWith(CORE_SOURCES) ? { ...result, sideEffects: false } : undefined;
    });
  },
};

const fromSources: Options['esbuildOptions'] = (options) => {
  options.conditions = ['source'];
  options.alias = { '@comfy-vast/core/workflow': CORE_WORKFLOW };
  // jsonc-parser's "main" is a UMD build whose inner requires esbuild cannot follow; its ESM build bundles cleanly.
  options.mainFields = ['module', 'main'];
};

/** What runs in the extension host: CommonJS for Node, `vscode` left to the host. */
const extensionHost: Options = {
  format: ['cjs'],
  platform: 'node',
  target: 'node20',
  outExtension: () => ({ js: '.cjs' }),
  external: ['vscode'],
  noExternal: BUNDLED,
  esbuildOptions: fromSources,
  esbuildPlugins: [coreWithoutSideEffects],
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
