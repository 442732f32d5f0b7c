/**
 * Runs the benchmarks in this folder: `npm run bench` for all, `npm run bench -- http` for those whose file name
 * contains "http". Each prints its figures; the text and every figure recorded (see lib/report.ts) also go to
 * bench/results/latest.json, so that two runs can be compared.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { takeFigures, type Figure } from './lib/report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();

const results: Record<string, { seconds: number; lines: string[]; figures: Figure[] }> = {};
const print = console.log;
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  const lines: string[] = [];
  console.log = (...parts: unknown[]) => {
    const line = parts.join(' ');
    lines.push(line);
    print(line);
  };
  print(`\n## ${name}`);
  const started = performance.now();
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<void> };
  await mod.run();
  results[name] = { seconds: Math.round(performance.now() - started) / 1000, lines, figures: takeFigures() };
  console.log = print;
}

const summary = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadavg: loadavg(),
  results,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', filter ? `latest-${filter}.json` : 'latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
