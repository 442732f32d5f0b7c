/**
 * Workflow parsing, conversion and analysis on generated UI workflows of 1,000 and 10,000 nodes, as a route does
 * them: parseWorkflow once, toApiPrompt of the parsed workflow, analyzeWorkflow given that conversion. Targets:
 * conversion plus analysis within 10 ms and 100 ms; parsing of 10,000 nodes within 20 ms and growing linearly
 * (10k/1k ≈ ×10), all three within 40 ms. Figures are medians of process CPU time; each operation is
 * measured in its own loop so that one's garbage is not collected in another's figure, and "all" is the three in
 * one loop, garbage included, as a caller pays them.
 *
 * Every size runs over at least 10,000 nodes of distinct workflows in turn (ten different 1,000-node ones), so
 * each run reads its input from memory as a server does, not from a CPU cache still warm from the same small
 * workflow: repeating one 1,000-node workflow fits in cache and would make growth look superlinear. That
 * figure is printed too, as is the cost per node at more sizes.
 */
import { UiWorkflowBuilder, analyzeWorkflow, parseWorkflow, toApiPrompt, type ConversionResult, type ParsedWorkflow, type UiWorkflow } from '@comfy-vast/core';
import { record } from './lib/report.js';

/** One SDXL-like pipeline of ten nodes, with a LoRA, a legacy reroute and a bypassed latent upscale. */
function addPipeline(b: UiWorkflowBuilder, index: number): void {
  const checkpoint = b.add('CheckpointLoaderSimple', ['sd_xl_base_1.0.safetensors']);
  const lora = b.add('LoraLoader', [`lora_${index % 20}.safetensors`, 0.8, 0.8]);
  const positive = b.add('CLIPTextEncode', [`prompt ${index}, embedding:style_${index % 5}`]);
  const negative = b.add('CLIPTextEncode', ['blurry']);
  const latent = b.add('EmptyLatentImage', [1024, 1024, 1]);
  const reroute = b.add('Reroute');
  const sampler = b.add('KSampler', [index, 'randomize', 30, 7, 'euler', 'normal', 1]);
  const upscale = b.add('LatentUpscale', ['nearest-exact', 1536, 1536, 'disabled'], { mode: 4 });
  const decode = b.add('VAEDecode');
  const save = b.add('SaveImage', [`bench_${index}`]);
  b.connect(checkpoint, 0, lora, 'model').connect(checkpoint, 1, lora, 'clip')
    .connect(lora, 0, reroute, 0).connect(reroute, 0, sampler, 'model')
    .connect(lora, 1, positive, 'clip').connect(lora, 1, negative, 'clip')
    .connect(positive, 0, sampler, 'positive').connect(negative, 0, sampler, 'negative')
    .connect(latent, 0, sampler, 'latent_image').connect(sampler, 0, upscale, 'samples')
    .connect(upscale, 0, decode, 'samples').connect(checkpoint, 2, decode, 'vae').connect(decode, 0, save, 'images');
}

function generate(nodes: number): UiWorkflow {
  const b = new UiWorkflowBuilder();
  for (let i = 0; i < nodes / 10; i++) addPipeline(b, i);
  return b.build();
}

/** CPU milliseconds of the process (wall time is unreliable on a shared machine: preemption is not our cost). */
function time(action: () => unknown): number {
  const start = process.cpuUsage();
  action();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const POOL_NODES = 10_000;

/** Median CPU time of an action over the inputs in turn, after a warm-up; fewer runs for larger inputs. */
function median<T>(inputs: readonly T[], action: (input: T) => unknown, nodes: number): number {
  const runs = Math.max(15, Math.round(200_000 / nodes));
  for (let i = 0; i < runs; i++) action(inputs[i % inputs.length]!);
  const samples = Array.from({ length: runs }, (_, i) => time(() => action(inputs[i % inputs.length]!))).sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

interface Figures {
  nodes: number;
  parse: number;
  convert: number;
  analyze: number;
  both: number;
  all: number;
}

const analyze = (parsed: ParsedWorkflow, conversion: ConversionResult) => analyzeWorkflow(parsed, { gpu: 'RTX 4090', conversion });

/** Every figure of one size; `full: false` only conversion and analysis (parse and "all" are then NaN). */
function measure(nodes: number, { distinct = Math.max(1, Math.round(POOL_NODES / nodes)), full = true } = {}): Figures {
  const workflows = Array.from({ length: distinct }, () => generate(nodes));
  const parse = full ? median(workflows, (w) => parseWorkflow(w), nodes) : Number.NaN;
  const parsed: ParsedWorkflow[] = workflows.map((w) => parseWorkflow(w));
  const convert = median(parsed, (p) => toApiPrompt(p), nodes);
  const conversions = new Map(parsed.map((p) => [p, toApiPrompt(p)]));
  const analysis = median(parsed, (p) => analyze(p, conversions.get(p)!), nodes);
  const all = full
    ? median(workflows, (w) => {
        const p = parseWorkflow(w);
        return analyze(p, toApiPrompt(p));
      }, nodes)
    : Number.NaN;
  return { nodes, parse, convert, analyze: analysis, both: convert + analysis, all };
}

const ms = (value: number): string => `${value.toFixed(2).padStart(7)} ms`;
const perNode = (f: Figures): string => `${((f.both * 1000) / f.nodes).toFixed(2)} µs`;

export async function run(): Promise<void> {
  const small = measure(1_000);
  const large = measure(10_000);
  const row = (label: string, f: Figures, target: number, parseTarget: string): string =>
    `${label.padEnd(12)} conversion ${ms(f.convert)}  analysis ${ms(f.analyze)}  both ${ms(f.both)} (target ${target} ms)  | parse ${ms(f.parse)}  all ${ms(f.all)}${parseTarget}`;
  console.log(row('1,000 nodes', small, 10, ''));
  console.log(row('10,000 nodes', large, 100, ' (targets 20 ms, 40 ms)'));
  const ratio = (a: number, b: number): string => `×${(a / b).toFixed(1)}`;
  console.log(
    `growth 10k/1k: conversion ${ratio(large.convert, small.convert)}, analysis ${ratio(large.analyze, small.analyze)}, both ${ratio(large.both, small.both)}, parse ${ratio(large.parse, small.parse)}, all ${ratio(large.all, small.all)} (linear ≈ ×10)`,
  );
  // The goals: parsing linear and within 20 ms, all three within 40 ms, conversion and analysis within 100 ms.
  const goals: [keyof Figures, string, number, boolean][] = [
    ['parse', 'parseWorkflow', 20, true],
    ['all', 'parse + conversion + analysis', 40, false],
    ['both', 'conversion + analysis', 100, false],
  ];
  for (const [key, name, target, linear] of goals) {
    const ratio10 = large[key] / small[key];
    record({
      name: `${name}, 10,000 nodes`,
      value: large[key],
      unit: 'ms',
      baseline: { name: '1,000 nodes', value: small[key] },
      ratio: ratio10,
      goal: `<= ${target} ms${linear ? ', linear (ratio about 10)' : ''}`,
      met: large[key] <= target && (!linear || ratio10 <= 13),
    });
  }
  const points = [small, measure(2_500, { full: false }), measure(5_000, { full: false }), large];
  console.log(`both per node: ${points.map((f) => `${f.nodes / 1000}k ${perNode(f)}`).join(', ')}`);
  const hot = measure(1_000, { distinct: 1, full: false });
  console.log(`one 1,000-node workflow repeated (cache-warm): both ${ms(hot.both)}, ${perNode(hot)} per node`);
}
