import type { ComfyVast } from '@comfy-vast/core';

type HealthView = Awaited<ReturnType<ComfyVast['health']>>;

type Reachability = 'up' | 'down';

/** What holds the records, for each service the process depends on `up` or `down`, and whether the leases are known. */
export function toHealthWire(view: HealthView): { store: HealthView['store']; postgres?: Reachability; redis?: Reachability; leases?: 'known' | 'unknown'; changes?: 'following' | 'catching-up' } {
  return {
    store: view.store,
    ...reachability('postgres', view.postgres),
    ...reachability('redis', view.redis),
    ...(view.leases === null ? {} : { leases: view.leases ? 'known' : 'unknown' }),
    ...(view.coherent === null ? {} : { changes: view.coherent ? 'following' : 'catching-up' }),
  };
}

function reachability<K extends string>(key: K, answers: boolean | null): Partial<Record<K, Reachability>> {
  return answers === null ? {} : ({ [key]: answers ? 'up' : 'down' } as Record<K, Reachability>);
}

/** What keeps the process from being ready, in words: empty when it is ready. */
export function notReady(view: HealthView): string[] {
  return [
    ...(view.postgres === false ? ['PostgreSQL does not answer'] : []),
    ...(view.redis === false ? ['Redis does not answer'] : []),
    ...(view.leases === false ? ['the background lease is not known yet'] : []),
    ...(view.coherent === false ? ['the records are catching up with changes made by other processes'] : []),
  ];
}
