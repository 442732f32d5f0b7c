/**
 * Summarises a `--cpu-prof` profile: self time by layer (this project's packages, each dependency, Node's own
 * code, native and idle time) and the top frames by self time.
 * `npx tsx bench/profile.ts <file.cpuprofile> [top] [units]`: with `units` (requests, events, generations in the
 * profiled span) each line also gives microseconds of CPU per unit;
 * profiles come from `BENCH_PROFILE=<dir> npm run bench -- <name>`.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function layerOf(url: string, fn: string): string {
  if (!url) return fn === '(idle)' ? '(idle)' : fn === '(garbage collector)' ? '(gc)' : fn === '(program)' ? '(program)' : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const pkg = /packages\/([^/]+)\/src\/([^/]+)/.exec(url);
  if (pkg) return `${pkg[1]}/${pkg[2]!.replace(/\.ts$/, '')}`;
  // The API server runs its build in the benchmarks (bench/lib/child.ts), bundled per package.
  const built = /packages\/([^/]+)\/dist\//.exec(url);
  if (built) return `${built[1]} (build)`;
  if (url.startsWith('node:')) return 'node';
  return url.replace(/^.*\/work\/main\//, '');
}

const [file, topArg, unitsArg] = process.argv.slice(2);
const units = Number(unitsArg ?? 0);
if (!file) throw new Error('usage: profile.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const layers = new Map<string, number>();
const frames = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const layer = layerOf(url, functionName);
  layers.set(layer, (layers.get(layer) ?? 0) + us);
  const frame = `${functionName || '(anonymous)'} ${layer}:${lineNumber + 1}`;
  frames.set(frame, (frames.get(frame) ?? 0) + us);
}
const busy = total - (layers.get('(idle)') ?? 0);
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %${units > 0 ? ` ${(us / units).toFixed(1).padStart(7)} µs` : ''}`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages of busy time${units > 0 ? `; ${(busy / units).toFixed(1)} µs a unit over ${units}` : ''})`);
console.log('by layer (self time):');
for (const [layer, us] of [...layers].filter(([l]) => l !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(us)}  ${layer}`);
console.log('top frames (self time):');
for (const [frame, us] of [...frames].filter(([f]) => !f.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25))) console.log(`  ${pct(us)}  ${frame}`);
