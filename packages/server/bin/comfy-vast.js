#!/usr/bin/env node
// The `comfy-vast` command. It exists from install on, so that npm links the command before the first build;
// the CLI itself is built into dist/ (`npm start` and `npm run build` build it).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('comfy-vast: the command is not built yet. Run `npm run build` (or `npm start`) at the repository root first.\n');
  process.exit(1);
}
await import(cli.href);
