import { afterAll, beforeAll } from 'vitest';
import { openRedis, type Redis } from '../../../src/cluster/index.js';
import { silentLogger } from '../../../src/util/index.js';
import { startPrivateRedis, type PrivateRedis } from './redis-server.js';

/**
 * A private Redis for a test file, with one client to it (`admin`): registers the hooks that start both before the
 * file's first test and end them after its last.
 */
export function usePrivateRedis(): { readonly server: PrivateRedis; readonly admin: Redis } {
  let server: PrivateRedis | undefined;
  let admin: Redis | undefined;
  beforeAll(async () => {
    server = await startPrivateRedis();
    admin = await openRedis({ url: server.url, logger: silentLogger });
  }, 30_000);
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get admin() {
      return admin!;
    },
  };
}
