import { MemoryStore } from '../../src/store/index.js';
import { storeContract } from './contract.js';
import { storeHarness } from './helpers.js';

const h = storeHarness();

storeContract('MemoryStore', { persistent: false, place: async () => ({ open: async () => new MemoryStore() }) });

storeContract('LowdbStore', {
  persistent: true,
  async place() {
    const dir = await h.dir();
    return { open: () => h.open({ dir }) };
  },
});
