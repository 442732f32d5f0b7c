import type { ComplexityFigures } from './complexity.js';

/**
 * Sampling throughput by GPU, in step-megapixels per second for an SDXL-class model (about it/s at 1024×1024).
 * Rough public figures; the estimate is a range, and past timings replace it when there are any.
 */
const GPU_THROUGHPUT: readonly [string, number][] = [
  ['H100', 14], ['H200', 15], ['A100', 9], ['L40S', 8], ['RTX 6000 ADA', 7.5], ['L40', 6.5], ['RTX 5090', 11], ['RTX 4090', 8],
  ['RTX 5080', 7], ['RTX 4080', 6], ['RTX 3090', 4.5], ['RTX A6000', 4.5], ['RTX 4070', 4], ['RTX 3080', 3.8],
  ['RTX A5000', 3.2], ['A10', 3], ['V100', 2.5], ['RTX A4000', 2.2], ['L4', 2], ['RTX 3060', 2], ['T4', 1],
];
const DEFAULT_THROUGHPUT = 3;
/** Model loading on first use, VAE decode and saving. */
const FIXED_SECONDS = 4;
const SECONDS_PER_UPSCALER = 3;

export interface TimeEstimate {
  minSeconds: number;
  maxSeconds: number;
  /** e.g. "45-60 seconds", "2-3 minutes". */
  text: string;
}

const normalise = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

export function gpuThroughput(gpu: string | undefined): number | undefined {
  if (!gpu) return undefined;
  const name = normalise(gpu);
  const matches = GPU_THROUGHPUT.filter(([key]) => name.includes(normalise(key)));
  matches.sort((a, b) => b[0].length - a[0].length);
  return matches[0]?.[1];
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function formatDuration(minSeconds: number, maxSeconds: number): string {
  const round5 = (s: number): number => Math.max(5, Math.round(s / 5) * 5);
  if (maxSeconds < 120) {
    const lo = round5(minSeconds);
    const hi = Math.max(round5(maxSeconds), lo + 5);
    return `${lo}-${hi} seconds`;
  }
  const lo = Math.max(1, Math.floor(minSeconds / 60));
  const hi = Math.max(Math.ceil(maxSeconds / 60), lo + 1);
  return `${lo}-${hi} minutes`;
}

/**
 * Estimates a generation's duration: from past timings of similar workflows when given (their interquartile
 * range), else from the sampler work over the GPU's throughput plus fixed costs, widened when the GPU is unknown.
 */
export function estimateGenerationTime(figures: ComplexityFigures, gpu?: string, pastTimings: readonly number[] = []): TimeEstimate {
  const past = pastTimings.filter((t) => Number.isFinite(t) && t > 0).sort((a, b) => a - b);
  let min: number;
  let max: number;
  if (past.length > 0) {
    const spread = past.length === 1 ? 0.15 : 0;
    min = quantile(past, 0.25) * (1 - spread);
    max = quantile(past, 0.75) * (1 + spread);
  } else {
    const known = gpuThroughput(gpu);
    const seconds = figures.samplerWork / (known ?? DEFAULT_THROUGHPUT) + FIXED_SECONDS + figures.upscalers * SECONDS_PER_UPSCALER;
    min = seconds * (known ? 0.8 : 0.5);
    max = seconds * (known ? 1.25 : 2);
  }
  return { minSeconds: Math.round(min), maxSeconds: Math.round(max), text: formatDuration(min, max) };
}
