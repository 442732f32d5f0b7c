import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openRedis, sharedInstallationKey, silentLogger, INSTALLATION_KEY_VALUE, type Store } from '@comfy-vast/core';
import { postgresHarness } from '../store/helpers/postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../store/helpers/redis-server.js';

// Processes that start together on a new installation agree on one SSH key pair: one of them writes it.
const pg = postgresHarness();
let redis: PrivateRedis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

/** A claim as the facade makes it, on a Redis connection of the process's own. */
async function claimer(key: string, ttlMs = 15_000): Promise<() => Promise<boolean>> {
  const client = await openRedis({ url: redis.url, logger: silentLogger });
  clients.push(client);
  return async () => (await client.set(key, String(Math.random()), 'PX', ttlMs, 'NX')) === 'OK';
}

describe('sharedInstallationKey with a claim', () => {
  it('gives processes starting at once one pair, written once, even when they do not wait for each other', async () => {
    const schema = pg.schema();
    const stores: Store[] = await Promise.all(Array.from({ length: 4 }, () => pg.open({ schema })));
    let writes = 0;
    for (const store of stores) {
      const setValue = store.setValue.bind(store);
      store.setValue = async (key, value) => {
        if (key === INSTALLATION_KEY_VALUE) writes++;
        return setValue(key, value);
      };
    }
    const key = `claim-${schema}`;
    const pairs = await Promise.all(stores.map(async (store) => sharedInstallationKey({ store, settleMs: 0, claim: await claimer(key) })));
    expect(new Set(pairs.map((p) => p.publicKey)).size).toBe(1);
    expect(pairs[0]!.publicKey).toMatch(/^ssh-ed25519 /);
    expect(writes).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('writes the pair itself once the claim of a process that died before writing has expired', async () => {
    const schema = pg.schema();
    const store = await pg.open({ schema });
    const key = `claim-${schema}`;
    // A process claimed and died: its claim lapses after its time, and the next one writes.
    expect(await (await claimer(key, 300))()).toBe(true);
    const pair = await sharedInstallationKey({ store, settleMs: 0, claim: await claimer(key) });
    expect(store.getValue(INSTALLATION_KEY_VALUE)).toEqual(pair);
    await store.close();
  });
});
