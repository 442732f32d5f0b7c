/**
 * Processes of a benchmark: the server under test, its baseline and every load generator run apart, so that the
 * load's own CPU never counts against the server (they still share the machine's cores, which the text says).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const procs = fileURLToPath(new URL('../procs/', import.meta.url));

export interface Child {
  /** Sends a command and resolves with the child's answer to it. */
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Asks the child to end (it writes its CPU profile first when profiled) and waits for it. */
  stop(): Promise<void>;
  process: ChildProcess;
}

/**
 * Starts `bench/procs/<name>.ts` under tsx. With `BENCH_PROFILE=<dir>` in the environment, the children named in
 * `BENCH_PROFILE_PROCS` (comma-separated; default the API server) write a `--cpu-prof` profile there.
 */
export async function startChild(name: string, args: Record<string, unknown> = {}): Promise<Child> {
  const profileDir = process.env.BENCH_PROFILE;
  const profiled = (process.env.BENCH_PROFILE_PROCS ?? 'api-server').split(',').includes(name);
  const execArgv = ['--import', 'tsx', '--conditions=source', '--max-old-space-size=2048'];
  if (profileDir && profiled) {
    // One folder per child: tsx's loader thread writes a profile of its own beside the main thread's.
    const dir = `${profileDir}/${name}-${Date.now()}`;
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = fork(`${procs}${name}.ts`, [JSON.stringify(args)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
    else w.resolve(m.result);
  });
  child.once('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited (${code})`));
    waiting.clear();
  });
  const call = <T>(cmd: string, a: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd, args: a });
    });
  await call('ready');
  return {
    call,
    process: child,
    async stop() {
      if (child.exitCode === null) await call('exit').catch(() => {});
      await exited;
    },
  };
}
