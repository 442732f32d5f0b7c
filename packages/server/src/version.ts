import { readFileSync } from 'node:fs';

/** The package's version, read once from its package.json (one level up from both src/ and dist/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
