import type { ComfyVast } from '@comfy-vast/core';

type HealthView = Awaited<ReturnType<ComfyVast['health']>>;

type Reachability = 'up' | 'down';

/** What holds the records and, for each service the process depends on, `up` or `down`. */
export function toHealthWire(view: HealthView): { store: HealthView['store']; postgres?: Reachability; redis?: Reachability } {
  return { store: view.store, ...reachability('postgres', view.postgres), ...reachability('redis', view.redis) };
}

function reachability<K extends string>(key: K, answers: boolean | null): Partial<Record<K, Reachability>> {
  return answers === null ? {} : ({ [key]: answers ? 'up' : 'down' } as Record<K, Reachability>);
}

/** The services that did not answer, by name: empty when the process is ready. */
export function unreachable(view: HealthView): string[] {
  return [...(view.postgres === false ? ['PostgreSQL'] : []), ...(view.redis === false ? ['Redis'] : [])];
}
