import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { PostgresStore, type PostgresStoreOptions } from '../../../src/store/index.js';
import { startPostgres, type PrivatePostgres } from './postgres-server.js';

/**
 * A PostgreSQL for the tests of one file: the one COMFY_VAST_TEST_DATABASE_URL names, else a private server started
 * for the file (failing, with how to install it, when PostgreSQL is not installed). Each store gets a schema of its
 * own; after each test the stores still open are closed and their schemas dropped.
 */
export function postgresHarness() {
  let server: PrivatePostgres | undefined;
  let admin: pg.Client | undefined;
  let url = '';
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  beforeAll(async () => {
    url = process.env.COMFY_VAST_TEST_DATABASE_URL || (server = await startPostgres()).url;
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
    for (const schema of schemas.splice(0)) await admin!.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });
  return {
    url: () => url,
    /** A connection of the test's own, to look at or change the database behind the store's back. */
    query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => admin!.query<R>(text, values),
    /** A new schema name, dropped after the test. */
    schema(): string {
      const schema = `test_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      return schema;
    },
    async open(options: Omit<PostgresStoreOptions, 'url'> & { schema: string }): Promise<PostgresStore> {
      const store = await PostgresStore.open({ url, ...options });
      stores.push(store);
      return store;
    },
  };
}
