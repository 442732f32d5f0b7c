import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Run } from './cli-process.js';
import { ADMIN_TOKEN, until } from './helpers.js';

/** How each round ends the server: graceful and killed, alternately. */
const ROUNDS: NodeJS.Signals[] = ['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGTERM', 'SIGKILL'];

let dataDir: string;
let current: Run | undefined;
/** What every server process printed, once it ended. */
const outputs: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-restart-suite-'));
});
afterAll(async () => {
  current?.child.kill('SIGKILL');
  await current?.exit;
  await rm(dataDir, { recursive: true, force: true });
});

async function serve(): Promise<ApiClient> {
  current = run(['serve', '--data-dir', dataDir], { COMFY_VAST_PROVIDER: 'simulated', COMFY_VAST_SIMULATION_SPEED: '1000', COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN });
  return createClient({ baseUrl: await current.url, token: ADMIN_TOKEN });
}

async function restart(signal: NodeJS.Signals): Promise<ApiClient> {
  const ending = current!;
  ending.child.kill(signal);
  const code = await ending.exit;
  outputs.push(ending.output());
  if (signal === 'SIGTERM') expect(code, ending.output()).toBe(0);
  return serve();
}

/** The instance ids the simulated Vast.ai holds, from the state it keeps in the data directory. */
async function simulatedInstances(): Promise<Set<number>> {
  const state = JSON.parse(await readFile(join(dataDir, 'simulation.json'), 'utf8')) as { instances: Array<{ id: number }> };
  return new Set(state.instances.map((i) => i.id));
}

describe('restarts of a server with simulated GPU servers', () => {
  it('loses no server and destroys no instance a server holds, across graceful and killed restarts', async () => {
    let api = await serve();
    const created: number[] = [];
    let lost = 0;
    let destroyed = 0;
    for (const [round, signal] of ROUNDS.entries()) {
      // Killed right after the rent is answered, before the server is even running.
      created.push((await api.createServer({ body: { name: `round ${round + 1} before`, gpu: 'RTX 4090' } })).id);
      api = await restart(signal);
      created.push((await api.createServer({ body: { name: `round ${round + 1} after`, gpu: 'RTX 4090' } })).id);
      // All running means the reconciler has looked at every instance since the restart; a deleted one leaves the list.
      const servers = await until(
        () => api.listServers(),
        (list) => created.some((id) => !list.some((s) => s.id === id)) || list.every((s) => s.status === 'running' && s.isLaunched),
      );
      const byId = new Map(servers.map((s) => [s.id, s]));
      const missing = created.filter((id) => byId.get(id)?.status !== 'running');
      lost += missing.length;
      expect(missing, `round ${round + 1} (${signal}): servers lost`).toEqual([]);
      const held = await simulatedInstances();
      const gone = servers.filter((s) => s.vastId !== null && !held.has(Number(s.vastId)));
      destroyed += gone.length;
      expect(gone, `round ${round + 1} (${signal}): instances destroyed`).toEqual([]);
      expect(servers.every((s) => s.provider === 'simulated')).toBe(true);
      expect(new Set(servers.map((s) => s.vastId)).size, 'an instance id given twice').toBe(servers.length);
    }
    outputs.push(current!.output());
    const destroyLines = outputs.join('\n').split('\n').filter((l) => l.includes('Destroying an instance'));
    console.log(`restart suite: ${ROUNDS.length} rounds, ${created.length} servers, ${lost} lost, ${destroyed + destroyLines.length} destroyed`);
    expect(destroyLines).toEqual([]);
    expect(created).toHaveLength(ROUNDS.length * 2);
  }, 120_000);
});
