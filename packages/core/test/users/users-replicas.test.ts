import { describe, expect, it, vi } from 'vitest';
import { systemClock, UserService, type PostgresStore } from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';

const pg = postgresHarness();
const TOKEN = 'replica-admin-token-0123456789abcdef0123456789';

/** What the facade wires for each process: tokens another process wrote are indexed here too. */
function usersOn(store: PostgresStore): UserService {
  const users = new UserService({ store, clock: systemClock });
  store.onRemoteChange((change) => {
    if (change.kind === 'records' && change.collection === 'tokens') users.remoteChanged(change.ids);
  });
  return users;
}

describe('users with several processes on one PostgreSQL schema', () => {
  it('makes one admin when processes start together on an empty database, and its token works on each', async () => {
    const schema = pg.schema();
    const stores = await Promise.all([pg.open({ schema }), pg.open({ schema }), pg.open({ schema })]);
    const services = stores.map(usersOn);
    const admins = await Promise.all(services.map((users) => users.ensureAdmin(TOKEN)));
    expect(new Set(admins.map((a) => a.user.id)).size).toBe(1);
    const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.users`);
    expect(rows[0]!.n).toBe(1);
    const tokens = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.tokens`);
    expect(tokens.rows[0]!.n).toBe(1);
    await vi.waitFor(() => {
      for (const users of services) expect(users.authenticate(TOKEN)?.role).toBe('admin');
    });
  });

  it('gives a username to one process only when two create it at the same moment', async () => {
    const schema = pg.schema();
    const [a, b] = (await Promise.all([pg.open({ schema }), pg.open({ schema })])).map(usersOn);
    const results = await Promise.allSettled([a!.createUser('Bea'), b!.createUser('bea')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/^A user named "[Bb]ea" already exists$/) });
    await vi.waitFor(() => expect(b!.findByUsername('BEA')).toBeDefined());
  });
});
