import { defineConfig } from 'tsup';

// `npm start` builds JavaScript only (TSUP_DTS=false): declarations take a minute and a server needs none.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', 'client/index': 'src/client/index.ts', 'contract/index': 'src/contract/index.ts' },
  format: ['esm'],
  dts: process.env.TSUP_DTS === 'false' ? false : { entry: { index: 'src/index.ts', 'client/index': 'src/client/index.ts', 'contract/index': 'src/contract/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Loaded on demand by the simulated provider only, never bundled into the server.
  external: ['@comfy-vast/testkit'],
});
