import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';

/** A server process of the tests' own, living in a temporary folder. */
export interface ServerProcess {
  /** Shuts the server down, runs `whileDown`, and starts it again. */
  restart(whileDown: () => Promise<void>): Promise<void>;
  /** Shuts the server down and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a server with `launch`, which hands its process to `track` as soon as it is spawned and resolves once it
 * accepts connections; shuts it down with `signal`, killing it when it takes over 10 s. A failed start stops the
 * process and removes `dir` before rethrowing.
 */
export async function runServerProcess(options: { dir: string; signal: NodeJS.Signals; launch: (track: (child: ChildProcess) => void) => Promise<void> }): Promise<ServerProcess> {
  let child: ChildProcess | undefined;
  const track = (spawned: ChildProcess) => void (child = spawned);
  const shutDown = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const running = child;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(options.signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const stop = async () => {
    await shutDown();
    await rm(options.dir, { recursive: true, force: true });
  };
  try {
    await options.launch(track);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    async restart(whileDown) {
      await shutDown();
      await whileDown();
      await options.launch(track);
    },
    stop,
  };
}
