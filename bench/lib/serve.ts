import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** The child's side of child.ts: answers the parent's commands with the handlers given, `exit` included. */
export type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

/**
 * Starts answering; the parent's first command (`ready`) waits until the child calls `ready()`, so handlers may
 * use what the child sets up after this call.
 */
export function serve<A = Record<string, unknown>>(handlers: Handlers): { args: A; ready: () => void } {
  const args = JSON.parse(process.argv[2] ?? '{}') as A;
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const builtin: Handlers = { ready: () => isReady, exit: () => true, cpu: cpuMs, 'profile:start': () => profiler.start(), 'profile:stop': (a) => profiler.stop(String(a.file)) };
  process.on('message', (m: { id: number; cmd: string; args: Record<string, unknown> }) => {
    const handler = handlers[m.cmd] ?? builtin[m.cmd];
    if (!handler) return void process.send!({ id: m.id, error: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => handler(m.args))
      .then(
        (result) => {
          process.send!({ id: m.id, result: result ?? null }, () => {
            // process.exit (not a kill) lets --cpu-prof write its profile.
            if (m.cmd === 'exit') process.exit(0);
          });
        },
        (error: Error) => process.send!({ id: m.id, error: error.stack ?? String(error) }),
      );
  });
  return { args, ready };
}

/** CPU time the process has used, in ms (user and system: the kernel's work for its sockets counts). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A CPU profile of just the span a benchmark measures (see Child.profile); `--cpu-prof` would include the start-up. */
const profiler = {
  session: null as Session | null,
  async start(): Promise<void> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    // 100 µs, not the default 1 ms: a request costs tens of µs, and the finer grain separates its parts.
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    this.session = session;
  },
  async stop(file: string): Promise<void> {
    const session = this.session!;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    this.session = null;
    await writeFile(file, JSON.stringify(profile));
  },
};

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
