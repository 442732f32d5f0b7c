import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

// `npm start` builds JavaScript only (TSUP_DTS=false): declarations take a minute and a server needs none.
export default defineConfig({
  entry: { index: 'src/index.ts', workflow: 'src/workflow/index.ts', clock: 'src/clock.ts' },
  format: ['esm'],
  dts: process.env.TSUP_DTS !== 'false',
  sourcemap: true,
  clean: true,
  target: 'node20',
  // loadRemoteScript reads remote.sh next to the bundle, so it ships in dist beside index.js.
  onSuccess: () => copyFile('src/remote/remote.sh', 'dist/remote.sh'),
});
