import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshKeyPair, startFakeSsh, type FakeSsh } from '@comfy-vast/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ComfyVastError } from '../../src/errors/index.js';
import { DEFAULT_REMOTE_LAYOUT } from '../../src/remote/layout.js';
import { loadRemoteScript } from '../../src/remote/remote-script.js';
import { SshRunner, type RemoteHost } from '../../src/remote/ssh-runner.js';
import { ServerWatchers } from '../../src/scheduler/watchers.js';
import { SETUP_STEPS, SetupService, type BasicModel, type ExecutionEvent } from '../../src/setup/index.js';
import { LowdbStore, MemoryStore, type Store } from '../../src/store/index.js';
import { ManualClock, silentLogger } from '../../src/util/index.js';
import { memoryPins } from '../remote/helpers/runner.js';

// Setup and reset followed through the real runner against the testkit's fake SSH host.
const key = sshKeyPair();
const ALICE = 1;
const BOB = 2;
const SERVER = 7;
let fake: FakeSsh;
let runner: SshRunner;
let clock: ManualClock;
let watchers: ServerWatchers;
const services: SetupService[] = [];
const host = (): RemoteHost => ({ server: String(SERVER), host: '127.0.0.1', port: fake.port, user: 'root' });

/** The server's state as the servers domain would report it to the setup service. */
let serverState: 'running' | 'creating' | 'attached' = 'running';

function service(store: Store = new MemoryStore(), basicModels: BasicModel[] = []): SetupService {
  const setup = new SetupService({
    store,
    basicModels,
    clock,
    logger: silentLogger,
    layout: DEFAULT_REMOTE_LAYOUT,
    watchers,
    remote: (userId, serverId) => {
      if (userId !== ALICE || serverId !== SERVER) throw new ComfyVastError('SERVER_NOT_FOUND', `Server ${serverId} not found`);
      if (serverState === 'attached') throw new ComfyVastError('NOT_SUPPORTED', 'An attached ComfyUI has no SSH', { details: { serverId } });
      if (serverState === 'creating') throw new ComfyVastError('SERVER_NOT_RUNNING', 'Not running yet', { details: { serverId, status: 'creating' } });
      return { runner, host: host() };
    },
  });
  services.push(setup);
  return setup;
}

/** The execution's events up to its end. */
function ended(setup: SetupService, executionId: number): Promise<ExecutionEvent> {
  return new Promise((resolve) => {
    const listener = (event: ExecutionEvent) => {
      if (event.executionId !== executionId || event.status === 'running') return;
      setup.off('execution:event', listener);
      resolve(event);
    };
    setup.on('execution:event', listener);
  });
}

function untilStep(setup: SetupService, step: number): Promise<ExecutionEvent> {
  return new Promise((resolve) => {
    const listener = (event: ExecutionEvent) => {
      if (event.entry.kind !== 'step' || event.entry.line.step !== step) return;
      setup.off('execution:event', listener);
      resolve(event);
    };
    setup.on('execution:event', listener);
  });
}

const steps = (setup: SetupService, executionId: number) =>
  setup.log(ALICE, SERVER, executionId).entries.flatMap((e) => (e.kind === 'step' ? [`${e.line.step}/${e.line.of}${e.line.skipped ? ' skipped' : ''}`] : []));
const jobsOnHost = () => fake.host.snapshot().jobs.map((j) => j.id);

beforeEach(async () => {
  serverState = 'running';
  fake = await startFakeSsh({ authorizedKey: key.public, tickMs: 5 });
  clock = new ManualClock(Date.parse('2026-12-06T12:00:00Z'));
  watchers = new ServerWatchers({ clock });
  runner = new SshRunner({ privateKey: key.private, pins: memoryPins(), script: await loadRemoteScript() });
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  runner.closeAll();
  await fake.close();
});

describe('setup', () => {
  it('runs the six steps on a bare server, then skips every one of them the second time', async () => {
    const setup = service();
    const first = await setup.setup(ALICE, SERVER);
    expect(first).toMatchObject({ started: true, steps: SETUP_STEPS, execution: { serverId: SERVER, kind: 'setup', scriptId: 1, status: 'running' } });
    expect(setup.activity(SERVER).running).toBe(true);
    const end = await ended(setup, first.execution.id);
    expect(end).toMatchObject({ status: 'completed', entry: { kind: 'done', line: { rc: 0 } } });
    expect(steps(setup, first.execution.id)).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    expect(fake.host.installed && fake.host.comfyRunning).toBe(true);

    const second = await setup.setup(ALICE, SERVER);
    await ended(setup, second.execution.id);
    expect(steps(setup, second.execution.id)).toEqual(SETUP_STEPS.map((_, i) => `${i + 1}/6 skipped`));
    expect(setup.list(SERVER).map((e) => [e.id, e.status])).toEqual([
      [second.execution.id, 'completed'],
      [first.execution.id, 'completed'],
    ]);
    expect(setup.activity(SERVER)).toEqual({ running: false, lastActivityAt: clock.now() });
  });

  it('answers a second request while one runs with the running execution, and starts nothing twice', async () => {
    fake.host.setTickMs(50);
    const setup = service();
    const [a, b] = await Promise.all([setup.setup(ALICE, SERVER), setup.setup(ALICE, SERVER)]);
    const c = await setup.setup(ALICE, SERVER);
    expect(a.started).toBe(true);
    expect([b, c].map((s) => [s.execution.id, s.started])).toEqual([
      [a.execution.id, false],
      [a.execution.id, false],
    ]);
    await expect(setup.reset(ALICE, SERVER, true)).rejects.toMatchObject({ code: 'CONFLICT', details: { executionId: a.execution.id } });
    await ended(setup, a.execution.id);
    expect(jobsOnHost()).toHaveLength(1);
  });

  it('re-attaches after the connection drops mid-setup, with no line lost or repeated', async () => {
    fake.host.setTickMs(100);
    const setup = service();
    const { execution } = await setup.setup(ALICE, SERVER);
    await untilStep(setup, 2);
    fake.dropConnections();
    await expect(ended(setup, execution.id)).resolves.toMatchObject({ status: 'completed' });
    expect(steps(setup, execution.id)).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    const seqs = setup.log(ALICE, SERVER, execution.id).entries.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(fake.connections).toBeGreaterThanOrEqual(2);
    expect(jobsOnHost()).toHaveLength(1);
  });

  it('goes on after a restart of ours from the offset it reached, without starting the job again', async () => {
    fake.host.setTickMs(100);
    const dir = await mkdtemp(join(tmpdir(), 'setup-restart-'));
    try {
      const store = await LowdbStore.open({ dir });
      const before = service(store);
      const { execution } = await before.setup(ALICE, SERVER);
      await untilStep(before, 3);
      await before.close();
      await store.close();

      const reopened = await LowdbStore.open({ dir });
      const after = service(reopened);
      expect(after.list(SERVER)[0]).toMatchObject({ id: execution.id, status: 'running', step: 3 });
      const done = ended(after, execution.id);
      after.start();
      await expect(done).resolves.toMatchObject({ status: 'completed' });
      expect(steps(after, execution.id)).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
      expect(jobsOnHost()).toHaveLength(1);
      await after.close();
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails when the job vanishes on the server, or when the server stops under it', async () => {
    fake.host.setTickMs(100);
    const setup = service();
    const lost = await setup.setup(ALICE, SERVER);
    await untilStep(setup, 1);
    fake.host.loseJob(jobsOnHost()[0]!);
    await expect(ended(setup, lost.execution.id)).resolves.toMatchObject({ status: 'failed', entry: { kind: 'done', line: { lost: true } } });
    expect(setup.list(SERVER)[0]).toMatchObject({ status: 'failed', error: { reason: 'lost' } });

    const stopped = await setup.setup(ALICE, SERVER);
    await untilStep(setup, 1);
    setup.serverGone(SERVER, 'The server is stopping');
    await expect(ended(setup, stopped.execution.id)).resolves.toMatchObject({ status: 'failed', entry: { kind: 'error', line: { reason: 'stopped' } } });
    expect(setup.list(SERVER)[0]).toMatchObject({ status: 'failed', error: { message: 'The server is stopping', reason: 'stopped' } });
    expect(setup.activity(SERVER).running).toBe(false);
  });
});

describe('basic models', () => {
  it('hands each basic model to the script as its own quoted words', async () => {
    const model = { folder: 'checkpoints', filename: "it's (v1).safetensors", url: 'https://huggingface.co/x/resolve/main/v1.safetensors?download=$(id)' };
    const setup = service(new MemoryStore(), [model]);
    await ended(setup, (await setup.setup(ALICE, SERVER)).execution.id);
    const started = fake.commands.find((c) => c.includes("'setup'"))!;
    expect(started).toContain(`'--model' 'checkpoints' 'it'\\''s (v1).safetensors' 'https://huggingface.co/x/resolve/main/v1.safetensors?download=$(id)'`);
  });
});

describe('a server that is not running', () => {
  it('waits for a server still coming up and begins once it runs', async () => {
    serverState = 'creating';
    const setup = service();
    const { execution, started } = await setup.setup(ALICE, SERVER);
    expect([execution.status, execution.step, started]).toEqual(['running', null, true]);
    expect(jobsOnHost()).toEqual([]);
    serverState = 'running';
    const done = ended(setup, execution.id);
    setup.serverRunning(SERVER);
    await expect(done).resolves.toMatchObject({ status: 'completed' });
  });

  it('fails a waiting execution when its server stops instead, and refuses an attached ComfyUI', async () => {
    serverState = 'creating';
    const setup = service();
    const { execution } = await setup.setup(ALICE, SERVER);
    const done = ended(setup, execution.id);
    setup.serverGone(SERVER, 'The server is stopped');
    await expect(done).resolves.toMatchObject({ status: 'failed', entry: { kind: 'error', line: { reason: 'stopped' } } });
    serverState = 'attached';
    await expect(setup.setup(ALICE, SERVER)).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    expect(setup.list(SERVER)).toHaveLength(1);
  });
});

describe('reset', () => {
  it('removes ComfyUI and sets it up again, keeping the models unless told not to', async () => {
    const setup = service();
    fake.host.addModel('checkpoints', 'base.safetensors', 1000);
    await ended(setup, (await setup.setup(ALICE, SERVER)).execution.id);

    const keep = await setup.reset(ALICE, SERVER, true);
    expect(keep).toMatchObject({ started: true, execution: { kind: 'reset', scriptId: 2, keepModels: true } });
    expect(keep.steps[0]).toBe('Removing ComfyUI and its environment');
    await ended(setup, keep.execution.id);
    expect(steps(setup, keep.execution.id)).toEqual(['1/7', '2/7', '3/7', '4/7', '5/7', '6/7', '7/7']);
    expect(fake.host.modelFiles()).toEqual({ checkpoints: ['base.safetensors'] });

    const wipe = await setup.reset(ALICE, SERVER, false);
    await expect(ended(setup, wipe.execution.id)).resolves.toMatchObject({ status: 'completed' });
    expect(fake.host.modelFiles()).toEqual({});
    expect(fake.host.installed).toBe(true);
  });
});

describe('following and ownership', () => {
  it('replays what a follower missed, counts the server as watched, and hides another user’s execution', async () => {
    const setup = service();
    const { execution } = await setup.setup(ALICE, SERVER);
    await ended(setup, execution.id);
    const all = setup.follow(ALICE, execution.id);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(all.at(-1)).toMatchObject({ status: 'completed', entry: { kind: 'done' } });
    expect(all.slice(0, -1).every((e) => e.status === 'running')).toBe(true);
    expect(setup.follow(ALICE, execution.id, 5).map((e) => e.seq)).toEqual([6, 7]);
    expect(watchers.count(SERVER)).toBe(1);
    setup.unfollow(execution.id);
    expect(watchers.count(SERVER)).toBe(0);

    expect(() => setup.follow(BOB, execution.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => setup.log(BOB, SERVER, execution.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => setup.log(ALICE, SERVER + 1, execution.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(setup.hasExecutions(BOB, SERVER)).toBe(false);
    await expect(setup.setup(BOB, SERVER)).rejects.toMatchObject({ code: 'SERVER_NOT_FOUND' });
  });
});

describe('estimates', () => {
  it('starts from the default step times, then from the times this installation measured', async () => {
    fake.host.setTickMs(20);
    const setup = service();
    const first = await setup.setup(ALICE, SERVER);
    // Defaults: 20 + 10 + 20 + 60 + 20 + 20 seconds.
    expect(first.estimatedMs).toBe(150_000);
    expect(first.execution.estimatedCompletion).toBe(new Date(clock.now() + 150_000).toISOString());
    // Each step takes 10 s of the manual clock: the clock jumps as each one begins.
    const tick = (event: ExecutionEvent) => {
      if (event.entry.kind === 'step' || event.entry.kind === 'done') clock.jump(10_000);
    };
    setup.on('execution:event', tick);
    await untilStep(setup, 4);
    // Step 4 of a bare server began just now: its 60 s and the two after it are left.
    expect(setup.list(SERVER)[0]!.estimatedCompletion).toBe(new Date(clock.now() - 10_000 + 100_000).toISOString());
    await ended(setup, first.execution.id);
    setup.off('execution:event', tick);

    fake.host.installed = false;
    const second = await setup.setup(ALICE, SERVER);
    expect(second.estimatedMs).toBe(60_000);
    await ended(setup, second.execution.id);
  });
});
