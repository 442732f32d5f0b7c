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
  /**
   * Runs `fn` (the load) while the child records a CPU profile, when `BENCH_PROFILE=<dir>` is set: the profile is
   * written to `<dir>/<child>-<label>.cpuprofile` (summarise it with bench/profile.ts).
   */
  profile<T>(label: string, fn: () => Promise<T>): Promise<T>;
  /** Asks the child to end (it writes its CPU profile first when profiled) and waits for it. */
  stop(): Promise<void>;
  process: ChildProcess;
}

/**
 * Starts `bench/procs/<name>.ts` under tsx, and waits until it is ready. With `built`, the project's packages it
 * imports are their builds (`dist/`, which `npm run bench` makes first), as `npm start` runs the server: the source
 * under tsx carries the loader's additions (a `__name` call for every function made), which the build has not.
 */
export async function startChild(name: string, args: Record<string, unknown> = {}, { built = false } = {}): Promise<Child> {
  const execArgv = ['--import', 'tsx', ...(built ? [] : ['--conditions=source']), '--expose-gc'];
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
    async profile(label, fn) {
      const dir = process.env.BENCH_PROFILE;
      if (!dir) return fn();
      mkdirSync(dir, { recursive: true });
      await call('profile:start');
      try {
        return await fn();
      } finally {
        await call('profile:stop', { file: `${dir}/${name}-${label}.cpuprofile` });
      }
    },
    async stop() {
      if (child.exitCode === null) await call('exit').catch(() => {});
      await exited;
    },
  };
}
