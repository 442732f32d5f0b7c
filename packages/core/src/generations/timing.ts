import type { Collection } from '../store/index.js';
import type { GenerationRecord } from './records.js';

const SAMPLE = 10;
const DEFAULT_SECONDS = 45;

/** Average execution time (s) of this server's last completed generations, or undefined with none yet. */
export function averageSeconds(generations: Collection<GenerationRecord>, serverId: number): number | undefined {
  const { items } = generations.page({ where: (g) => g.serverId === serverId && g.status === 'completed' && g.executionTime !== null, limit: SAMPLE });
  if (items.length === 0) return undefined;
  return items.reduce((sum, g) => sum + g.executionTime!, 0) / items.length;
}

/** The response's `estimatedTime`: the server's average run, times the prompts ahead and this one, as a range. */
export function estimateText(average: number | undefined, queuePosition: number): string {
  const seconds = (average ?? DEFAULT_SECONDS) * Math.max(1, queuePosition);
  const lo = Math.max(1, Math.round(seconds * 0.75));
  const hi = Math.max(lo + 1, Math.round(seconds * 1.5));
  return `${lo}-${hi} seconds`;
}
