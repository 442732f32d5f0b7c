import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRedis, silentLogger } from '@comfy-vast/core';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PrivatePostgres } from '../../../core/test/store/helpers/postgres-server.js';
import { startPrivateRedis, type PrivateRedis } from '../../../core/test/store/helpers/redis-server.js';
import { run, type Run } from '../cli-process.js';
import { ADMIN_TOKEN } from '../helpers.js';

const fakeVastMain = fileURLToPath(new URL('../../../testkit/src/fake-vast/main.ts', import.meta.url));

/** One `comfy-vast serve` process of the cluster, which a test may kill outright and start again. */
export interface Replica {
  readonly name: string;
  /** `http://127.0.0.1:<port>` of the running process (a new port after each restart). */
  readonly url: string;
  readonly pid: number;
  /** What the process printed and logged since it last started. */
  output(): string;
  /** A client of this process's API. */
  client(token?: string): ApiClient;
  /** `ws://.../api/ws?token=...` on this process. */
  socketUrl(token: string): string;
  /** SIGKILL, as a host dying: nothing is closed, released or flushed. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the process again on the same data directory and settings; resolves once it listens. */
  restart(): Promise<void>;
}

/** A call the fake Vast.ai received from any replica. */
export interface VastCall {
  method: string;
  path: string;
}

export interface ReplicaCluster {
  /** True for the embedded default: one process on its data directory, no PostgreSQL, no Redis. */
  readonly embedded: boolean;
  readonly replicas: readonly Replica[];
  /** The fake Vast.ai's API (for the test to look at instances as Vast shows them): base URL and key. */
  readonly vast: { url: string; apiKey: string };
  /** Every call the replicas made to Vast.ai, in order. */
  vastCalls(): VastCall[];
  /** The replica holding the `background` lease (scheduler, reconciler, budgets), as Redis says now; embedded, the one process. */
  backgroundHolder(): Promise<Replica | undefined>;
}

/**
 * N identical API server processes on loopback, as a user runs them behind a load balancer: a private PostgreSQL
 * and Redis, one fake Vast.ai process that all of them rent from (the simulated provider would give each its own
 * simulation), one shared images directory, and a data directory per process. With `embedded`, the default
 * installation instead: one process on lowdb in its data directory, renting from the same fake Vast.ai, so that one
 * suite shows both behave alike. Started before the file's tests, everything stopped and removed after them.
 */
export function useReplicas(count: number, options: { embedded?: boolean } = {}): ReplicaCluster {
  const embedded = options.embedded ?? false;
  if (embedded && count !== 1) throw new Error('the embedded default runs as one process');
  let postgres: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  let fakeVast: ChildProcess | undefined;
  let proxy: CountingProxy | undefined;
  let vast: { url: string; apiKey: string } | undefined;
  let root: string | undefined;
  const replicas: ReplicaProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'comfy-vast-replicas-'));
    // Each kept as it starts, so that what did start is stopped after a failure of another.
    const started = await Promise.allSettled([
      embedded ? undefined : startPostgres().then((s) => (postgres = s)),
      embedded ? undefined : startPrivateRedis().then((s) => (redis = s)),
      startFakeVastProcess().then((s) => {
        fakeVast = s.child;
        vast = { url: s.url, apiKey: s.apiKey };
      }),
    ]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    proxy = await startCountingProxy(vast!.url);
    const env: Record<string, string> = {
      COMFY_VAST_PROVIDER: 'vast',
      VAST_API_URL: proxy.url,
      VAST_API_KEY: vast!.apiKey,
      COMFY_VAST_POLL_SECONDS: '1',
      COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN,
      ...(embedded ? {} : { COMFY_VAST_DATABASE_URL: postgres!.url, COMFY_VAST_REDIS_URL: redis!.url, COMFY_VAST_IMAGES_DIR: join(root, 'images') }),
    };
    for (let i = 0; i < count; i++) replicas.push(new ReplicaProcess(String.fromCharCode(65 + i), { ...env, COMFY_VAST_DATA: join(root, `replica-${i}`) }));
    // All at once, as an orchestrator starts them: they agree on one admin for the configured token.
    await Promise.all(replicas.map((r) => r.start()));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy?.close();
    if (fakeVast) await stopChild(fakeVast, 'SIGTERM');
    await Promise.all([postgres?.stop(), redis?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  return {
    embedded,
    replicas,
    get vast() {
      if (!vast) throw new Error('the fake Vast.ai starts before the tests');
      return vast;
    },
    vastCalls: () => proxy?.calls.slice() ?? [],
    async backgroundHolder() {
      if (embedded) return replicas.find((r) => r.running);
      const client = await openRedis({ url: redis!.url, logger: silentLogger });
      try {
        // The lease's token is `<host>:<pid>:<random>`.
        const token = await client.get('comfy-vast:lease:background');
        const pid = token === null ? null : Number(token.split(':').at(-2));
        return replicas.find((r) => r.running && r.pid === pid);
      } finally {
        client.disconnect();
      }
    },
  };
}

class ReplicaProcess implements Replica {
  readonly name: string;
  readonly #env: Record<string, string>;
  #run: Run | undefined;
  #url = '';

  constructor(name: string, env: Record<string, string>) {
    this.name = name;
    this.#env = env;
  }

  get url(): string {
    return this.#url;
  }

  get pid(): number {
    return this.#run!.child.pid!;
  }

  get running(): boolean {
    const child = this.#run?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  output(): string {
    return this.#run?.output() ?? '';
  }

  client(token?: string): ApiClient {
    return createClient({ baseUrl: this.#url, token });
  }

  socketUrl(token: string): string {
    return `${this.#url.replace('http', 'ws')}/api/ws?token=${token}`;
  }

  async start(): Promise<void> {
    this.#run = run(['serve'], this.#env);
    this.#url = await this.#run.url;
  }

  async kill(): Promise<void> {
    if (this.#run) await stopChild(this.#run.child, 'SIGKILL');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** A polite stop (SIGTERM), forced after a few seconds. */
  async stop(): Promise<void> {
    if (this.#run) await stopChild(this.#run.child, 'SIGTERM');
  }
}

/** Sends `signal` and waits for the exit; SIGKILL follows when a polite signal is not heeded within 10 s. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The testkit's fake Vast.ai as a process of its own, at 100 times Vast's pace; its first line says where it is. */
function startFakeVastProcess(): Promise<{ child: ChildProcess; url: string; apiKey: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fakeVastMain, '--speed', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /VAST_API_URL=(\S+) VAST_API_KEY=(\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, apiKey: m[2]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`the fake Vast.ai exited (${code}) before listening:\n${out}`)));
  });
}

interface CountingProxy {
  url: string;
  calls: VastCall[];
  close(): Promise<void>;
}

/**
 * A pass-through in front of the fake Vast.ai that notes each call: the fake counts calls only in its own process,
 * and the tests count what all replicas together asked of Vast (one start, not three).
 */
async function startCountingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target);
  const calls: VastCall[] = [];
  const server: Server = createServer((req, res) => {
    calls.push({ method: req.method ?? 'GET', path: new URL(req.url ?? '/', 'http://proxy').pathname });
    const upstream = request({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
