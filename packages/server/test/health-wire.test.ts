import { describe, expect, it } from 'vitest';
import { notReady, toHealthWire } from '../src/wire/health.js';

describe('health on the wire', () => {
  it('names each service only when the process uses it', () => {
    expect(toHealthWire({ store: 'embedded', postgres: null, redis: null, leases: null })).toEqual({ store: 'embedded' });
    expect(toHealthWire({ store: 'postgres', postgres: true, redis: false, leases: true })).toEqual({ store: 'postgres', postgres: 'up', redis: 'down', leases: 'known' });
  });

  it('is not ready while a service does not answer or the leases are not known yet', () => {
    expect(notReady({ store: 'embedded', postgres: null, redis: null, leases: null })).toEqual([]);
    expect(notReady({ store: 'postgres', postgres: true, redis: true, leases: true })).toEqual([]);
    expect(notReady({ store: 'postgres', postgres: true, redis: true, leases: false })).toEqual(['the background lease is not known yet']);
    expect(notReady({ store: 'postgres', postgres: false, redis: false, leases: false })).toEqual(['PostgreSQL does not answer', 'Redis does not answer', 'the background lease is not known yet']);
  });
});
