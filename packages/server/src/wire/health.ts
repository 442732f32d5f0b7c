import type { ComfyVast } from '@comfy-vast/core';

type HealthView = Awaited<ReturnType<ComfyVast['health']>>;

/** What holds the records and, for each service the process depends on, `up` or `down`. */
export function toHealthWire(view: HealthView): { store: HealthView['store']; postgres?: 'up' | 'down' } {
  return { store: view.store, ...(view.postgres === null ? {} : { postgres: view.postgres ? 'up' : 'down' }) };
}

/** The services that did not answer, by name: empty when the process is ready. */
export function unreachable(view: HealthView): string[] {
  return view.postgres === false ? ['PostgreSQL'] : [];
}
