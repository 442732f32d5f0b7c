import type { Collection } from '../store/index.js';
import { formatDuration } from '../workflow/estimate.js';
import { complexityFigures, estimateGenerationTime, type ApiPrompt, type TimeEstimate } from '../workflow/index.js';
import type { GenerationRecord } from './records.js';

const SAMPLE = 10;
/** Above this many seconds the estimate speaks in minutes. */
const MINUTES_FROM = 120;

/** Execution times (s) of this server's last completed generations, newest first. */
export function recentTimings(generations: Collection<GenerationRecord>, serverId: number): number[] {
  const { items } = generations.page({ where: (g) => g.serverId === serverId && g.status === 'completed' && g.executionTime !== null, limit: SAMPLE });
  return items.map((g) => g.executionTime!);
}

/** The mean of some timings, or null with none. */
export function averageSeconds(timings: readonly number[]): number | null {
  return timings.length === 0 ? null : timings.reduce((sum, t) => sum + t, 0) / timings.length;
}

/** How long one run takes on this server: as its recent runs took when it has any, else the workflow's estimate for its GPU. */
export function runEstimate(timings: readonly number[], prompt: ApiPrompt, gpu: string | undefined): TimeEstimate {
  return estimateGenerationTime(complexityFigures(prompt), gpu, timings);
}

/** A queued generation's `estimatedTime`: one run's range times the prompts ahead and this one, to the second below two minutes. */
export function estimateText(run: TimeEstimate, queuePosition: number): string {
  const runs = Math.max(1, queuePosition);
  const min = run.minSeconds * runs;
  const max = run.maxSeconds * runs;
  if (max >= MINUTES_FROM) return formatDuration(min, max);
  const lo = Math.max(1, Math.round(min));
  return `${lo}-${Math.max(lo + 1, Math.round(max))} seconds`;
}
