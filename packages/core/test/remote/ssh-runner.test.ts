import { sshKeyPair } from '@comfy-vast/testkit';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isComfyVastError, type ComfyVastError } from '../../src/errors/index.js';
import { loadRemoteScript } from '../../src/remote/remote-script.js';
import { ManualClock } from '../../src/util/index.js';
import { driveWithIo } from './helpers/drive.js';
import { Relay } from './helpers/fixtures.js';
import { endpointOf, memoryPins, runnerFor } from './helpers/runner.js';
import { startSshd, type PrivateSshd, SSHD_TIMEOUT } from './helpers/sshd.js';

let sshd: PrivateSshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => {
      expect(isComfyVastError(error, 'SSH_ERROR')).toBe(true);
      return error as ComfyVastError;
    },
  );

describe('SshRunner', SSHD_TIMEOUT, () => {
  it('pins the host key on first use, as ssh-keygen fingerprints it, and accepts it afterwards', async () => {
    const pins = memoryPins();
    const runner = await runnerFor(sshd, { pins });
    try {
      await runner.run(endpointOf(sshd), ['status']);
      expect(pins.pins.get('server-1')).toBe(sshd.hostKeyFingerprint);
      runner.closeAll();
      expect((await runner.run(endpointOf(sshd), ['status'])).exitCode).toBe(0);
    } finally {
      runner.closeAll();
    }
  });

  it('refuses a host whose key differs from the pinned one, without retrying', async () => {
    const pins = memoryPins();
    pins.pins.set('server-1', 'SHA256:somebodyElsesKeyAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    const runner = await runnerFor(sshd, { pins });
    const error = await failure(runner.run(endpointOf(sshd), ['status']));
    expect(error.details.reason).toBe('host-key');
  });

  it('reports a refused key as an auth failure, with no key material in the error', async () => {
    const other = sshKeyPair();
    const runner = await runnerFor(sshd, { privateKey: other.private });
    const error = await failure(runner.run(endpointOf(sshd), ['status']));
    expect(error.details.reason).toBe('auth');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('PRIVATE KEY');
  });

  it('reports an unreadable private key as an auth failure, not a crash', async () => {
    const runner = await runnerFor(sshd, { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n' });
    const error = await failure(runner.run(endpointOf(sshd), ['status']));
    expect(error.details.reason).toBe('auth');
    expect(error.message).not.toContain('bm90IGEga2V5');
  });

  it('shares one connection per server between commands, and installs remote.sh only when its hash changed', async () => {
    const relay = await Relay.start(sshd.port);
    const remoteDir = `${sshd.dir}/state-reuse`;
    const runner = await runnerFor(sshd, { remoteDir });
    try {
      await Promise.all([1, 2, 3].map(() => runner.run(endpointOf(sshd, relay.port), ['status'])));
      expect(relay.connections).toBe(1);
      const script = await loadRemoteScript();
      expect(sshd.asUser('cat', [`${remoteDir}/remote.sh`])).toBe(script);

      // A copy changed on the server is replaced on the next connection; an unchanged one is left alone.
      runner.closeAll();
      sshd.asUser('sh', ['-c', `echo '# edited' >> '${remoteDir}/remote.sh'`]);
      await runner.run(endpointOf(sshd, relay.port), ['status']);
      expect(sshd.asUser('cat', [`${remoteDir}/remote.sh`])).toBe(script);
      const inode = sshd.asUser('ls', ['-i', `${remoteDir}/remote.sh`]);
      runner.closeAll();
      await runner.run(endpointOf(sshd, relay.port), ['status']);
      expect(sshd.asUser('ls', ['-i', `${remoteDir}/remote.sh`])).toBe(inode);
      expect(relay.connections).toBe(3);
    } finally {
      runner.closeAll();
      await relay.close();
    }
  });

  it('reconnects with backoff on the injected clock until the server answers', async () => {
    // A port that refuses until the relay starts listening on it.
    const placeholder = createServer();
    await new Promise<void>((resolve) => placeholder.listen(0, '127.0.0.1', resolve));
    const port = (placeholder.address() as { port: number }).port;
    await new Promise((resolve) => placeholder.close(resolve));

    const clock = new ManualClock();
    const runner = await runnerFor(sshd, { clock, random: () => 0, connectTimeoutMs: 600_000 });
    let relay: Server | undefined;
    const sockets: Socket[] = [];
    try {
      const run = runner.run(endpointOf(sshd, port), ['status']);
      // Two refused attempts (waits of 0.5 s then 1 s with this random), then the port opens.
      await clock.advance(1_600);
      await new Promise((resolve) => setTimeout(resolve, 50));
      relay = createServer((socket) => {
        sockets.push(socket);
        const upstream = connect(sshd.port, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
      });
      await new Promise<void>((resolve) => relay!.listen(port, '127.0.0.1', resolve));
      expect((await driveWithIo(clock, run)).exitCode).toBe(0);
    } finally {
      runner.closeAll();
      for (const s of sockets) s.destroy();
      relay?.close();
    }
  });

  it('gives up on a server that never completes the handshake when the clock says so', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const clock = new ManualClock();
    const runner = await runnerFor(sshd, { clock, connectTimeoutMs: 5_000, backoff: { deadlineMs: 0 } });
    try {
      const error = await failure(driveWithIo(clock, runner.run(endpointOf(sshd, port), ['status'])));
      expect(error.details.reason).toBe('timeout');
    } finally {
      silent.close();
    }
  });

  it('fails a command that outlives its timeout', async () => {
    const clock = new ManualClock();
    const runner = await runnerFor(sshd, { clock, connectTimeoutMs: 600_000 });
    try {
      // tail follows a job that never ends: a log without an exit code, and a live worker of the test user's.
      const job = `${sshd.dir}/state/jobs/endless`;
      sshd.asUser('sh', ['-c', `mkdir -p '${job}'; : > '${job}/log'; setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! > '${job}/pid'`]);
      const error = await failure(driveWithIo(clock, runner.run(endpointOf(sshd), ['tail', '--job', 'endless'], { timeoutMs: 3_000 })));
      expect(error.details.reason).toBe('timeout');
    } finally {
      runner.closeAll();
    }
  });
});
