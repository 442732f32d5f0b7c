import { storeContract } from './contract.js';
import { postgresHarness } from './helpers/postgres.js';

const pg = postgresHarness();

storeContract('PostgresStore', {
  persistent: true,
  async place() {
    const schema = pg.schema();
    return { open: () => pg.open({ schema }) };
  },
});
