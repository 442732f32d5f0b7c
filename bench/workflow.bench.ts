/**
 * Workflow conversion and analysis on generated UI workflows of 1,000 and 10,000 nodes, validated once with
 * parseWorkflow (timed on its own) as a route does. Targets: analysis plus conversion within 10 ms and 100 ms;
 * the 10k/1k ratio shows whether growth is linear (≈10). Figures are medians of process CPU time; analysis
 * includes its own conversion.
 */
import { UiWorkflowBuilder, analyzeWorkflow, parseWorkflow, toApiPrompt, type ParsedWorkflow, type UiWorkflow } from '@comfy-vast/core';

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

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Figures {
  parse: number;
  convert: number;
  analyze: number;
  both: number;
}

/** CPU milliseconds of the process (wall time is unreliable on a shared machine: preemption is not our cost). */
function time(action: () => unknown): number {
  const start = process.cpuUsage();
  action();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function measure(workflow: UiWorkflow, runs: number): Figures {
  const parse: number[] = [];
  const convert: number[] = [];
  const analyze: number[] = [];
  let parsed: ParsedWorkflow | undefined;
  for (let i = 0; i < runs; i++) {
    parse.push(time(() => (parsed = parseWorkflow(workflow))));
    convert.push(time(() => toApiPrompt(parsed)));
    analyze.push(time(() => analyzeWorkflow(parsed, { gpu: 'RTX 4090' })));
  }
  const [p, c, a] = [median(parse), median(convert), median(analyze)];
  return { parse: p, convert: c, analyze: a, both: c + a };
}

const ms = (value: number): string => `${value.toFixed(2).padStart(7)} ms`;

export async function run(): Promise<void> {
  const small = generate(1_000);
  const large = generate(10_000);
  measure(small, 20);
  const s = measure(small, 40);
  const l = measure(large, 15);
  const row = (label: string, f: Figures, target: number): string =>
    `${label.padEnd(12)} conversion ${ms(f.convert)}  analysis ${ms(f.analyze)}  both ${ms(f.both)} (target ${target} ms)  | parse ${ms(f.parse)}`;
  console.log(row('1,000 nodes', s, 10));
  console.log(row('10,000 nodes', l, 100));
  const ratio = (a: number, b: number): string => `×${(a / b).toFixed(1)}`;
  console.log(`growth 10k/1k: conversion ${ratio(l.convert, s.convert)}, analysis ${ratio(l.analyze, s.analyze)}, both ${ratio(l.both, s.both)}, parse ${ratio(l.parse, s.parse)} (linear ≈ ×10)`);
}
