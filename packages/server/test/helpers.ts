import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { resolveConfig, startServer, type RunningServer } from '../src/index.js';
import { createLogger } from '../src/logger.js';

export const ADMIN_TOKEN = 'admin-test-token-0123456789abcdef0123456789';

/** Collects every log line so tests can check that no secret was written. */
export class LogCapture extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestServer extends RunningServer {
  logs: LogCapture;
  printed: string[];
  admin: ApiClient;
  client(token?: string): ApiClient;
  dataDir: string;
  stop(): Promise<void>;
}

/** A real server on an ephemeral loopback port, with its own data directory and captured logs. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-server-'));
  const config = resolveConfig({ PORT: '0', COMFY_VAST_DATA: dataDir, COMFY_VAST_ADMIN_TOKEN: ADMIN_TOKEN, COMFY_VAST_LOG_LEVEL: 'debug', ...env });
  const logs = new LogCapture();
  const printed: string[] = [];
  const server = await startServer(config, { logger: createLogger(config.logLevel, logs), print: (line) => printed.push(line) });
  const client = (token?: string) => createClient({ baseUrl: server.url, token });
  return {
    ...server,
    logs,
    printed,
    dataDir,
    admin: client(ADMIN_TOKEN),
    client,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function raw(server: { url: string }, path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(`${server.url}${path}`, { ...init, headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the test looks at the text.
  }
  return { status: response.status, headers: response.headers, body };
}

/** Polls `fn` until `ok` holds (the simulated servers change state on their own timers). */
export async function until<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Rents a simulated server for `client` and waits until its ComfyUI answers. */
export async function launchServer(client: ApiClient, name = 'test server'): Promise<number> {
  const created = await client.createServer({ body: { name, gpu: 'RTX 4090' } });
  await until(() => client.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched);
  return created.id;
}

/** A simulated server platform with one user, alice, whose GPU server already runs ComfyUI. */
export interface AliceWorld {
  server: TestServer;
  alice: ApiClient;
  aliceToken: string;
  aliceId: number;
  serverId: number;
}

export async function startWithAlice(): Promise<AliceWorld> {
  const server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100' });
  const created = await server.admin.createUser({ body: { username: 'alice' } });
  const alice = server.client(created.token);
  return { server, alice, aliceToken: created.token, aliceId: created.id, serverId: await launchServer(alice) };
}
