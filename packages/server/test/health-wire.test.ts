import { describe, expect, it } from 'vitest';
import { notReady, toHealthWire } from '../src/wire/health.js';

const embedded = { store: 'embedded', postgres: null, redis: null, leases: null, coherent: null } as const;
const replica = { store: 'postgres', postgres: true, redis: true, leases: true, coherent: true } as const;

describe('health on the wire', () => {
  it('names each service only when the process uses it', () => {
    expect(toHealthWire(embedded)).toEqual({ store: 'embedded' });
    expect(toHealthWire({ ...replica, redis: false, coherent: false })).toEqual({ store: 'postgres', postgres: 'up', redis: 'down', leases: 'known', changes: 'catching-up' });
    expect(toHealthWire(replica)).toMatchObject({ changes: 'following' });
  });

  it('is not ready while a service does not answer, the leases are not known yet or the records catch up', () => {
    expect(notReady(embedded)).toEqual([]);
    expect(notReady(replica)).toEqual([]);
    expect(notReady({ ...replica, leases: false })).toEqual(['the background lease is not known yet']);
    expect(notReady({ ...replica, coherent: false })).toEqual(['the records are catching up with changes made by other processes']);
    expect(notReady({ ...replica, postgres: false, redis: false, leases: false })).toEqual(['PostgreSQL does not answer', 'Redis does not answer', 'the background lease is not known yet']);
  });
});
