import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';

const NO_LIMITS = { search: 0, create: 0, list: 0, show: 0, manage: 0, destroy: 0, sshKeys: 0, instanceSsh: 0, user: 0 };

/**
 * Fake Vast.ai's restarted on one state file: each test gets a new temporary folder holding `stateFile`, a clock it
 * moves by hand (`now`) and no rate limits; what it started (`open`) is closed after it.
 */
export function stateFileHarness() {
  const h = {
    dir: '',
    stateFile: '',
    now: 0,
    open: [] as Array<{ close(): Promise<void> }>,
    async start(): Promise<FakeVast> {
      const fake = await startFakeVast({ now: () => h.now, intervalsMs: NO_LIMITS, stateFile: h.stateFile });
      h.open.push(fake);
      return fake;
    },
  };
  beforeEach(async () => {
    h.now = 1_000_000;
    h.dir = await mkdtemp(join(tmpdir(), 'fake-vast-state-'));
    h.stateFile = join(h.dir, 'simulation.json');
  });
  afterEach(async () => {
    await Promise.all(h.open.splice(0).map((f) => f.close()));
    await rm(h.dir, { recursive: true, force: true });
  });
  return h;
}

/** A call of the fake's API that must answer 200; answers the body. */
export async function call(fake: FakeVast, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(fake.url + path, { method, headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(res.status, `${method} ${path}`).toBe(200);
  return res.json();
}

/** Rents the first offer with ComfyUI's template, as the provider does; answers the instance id. */
export async function rent(fake: FakeVast, label: string): Promise<number> {
  const [offer] = fake.offers();
  const launch = { image: 'vastai/comfy:@vastai-automatic-tag', disk: 20, runtype: 'ssh_direc ssh_proxy', env: { '-p 8188:8188': '1', WEB_PASSWORD: 'pw' }, label };
  return (await call(fake, 'PUT', `/api/v0/asks/${offer!.id}/`, launch)).new_contract;
}
