import { isComfyVastError } from '../errors/index.js';
import type { DoneLine, ErrorLine, RemoteLine } from './lines.js';
import { sshError, type RunOptions, type RemoteHost, type SshRunner } from './ssh-runner.js';

export interface JobOutcome {
  done: DoneLine;
  /** The job's error line, when it failed with one. */
  error?: ErrorLine;
}

export interface FollowOptions {
  /** Each line with the job log's offset just past it: where a later re-attach picks up. */
  onLine?: (line: RemoteLine, offset: number) => void;
  signal?: AbortSignal;
  /** Where to start reading the job's log (bytes already seen, after a restart of ours). */
  offset?: number;
  /** Consecutive drops with no new line before giving up (default 5); each re-attach already retries the connection. */
  maxDrops?: number;
}

/**
 * Starts a detached remote job (`setup`, `reset`, `download`; a no-op when it already runs) and follows its log to
 * the end. A dropped connection is re-attached by running the same start command from the byte offset reached, so
 * no line is lost or repeated and nothing starts twice.
 */
export async function followJob(
  runner: Pick<SshRunner, 'run'>,
  endpoint: RemoteHost,
  start: { args: readonly string[]; stdin?: string },
  options: FollowOptions = {},
): Promise<JobOutcome> {
  let offset = options.offset ?? 0;
  let drops = 0;
  let done: DoneLine | undefined;
  let error: ErrorLine | undefined;
  const onLine = (line: RemoteLine, bytes: number) => {
    if (line.kind === 'done') done = line.line;
    if (line.kind === 'error') error = line.line;
    options.onLine?.(line, offset + bytes);
  };
  for (;;) {
    const run: RunOptions = { onLine, ...(start.stdin === undefined ? {} : { stdin: start.stdin }), ...(options.signal ? { signal: options.signal } : {}) };
    try {
      const result = await runner.run(endpoint, [...start.args, '--offset', String(offset)], run);
      offset += result.bytes;
      if (done) return error ? { done, error } : { done };
      // Exited without a done line: the command itself was refused (its error line says why).
      throw sshError('command', error?.error ?? `remote.sh ${start.args[0]} ended without finishing (exit ${result.exitCode})`, {
        exitCode: result.exitCode,
        remoteReason: error?.reason,
      });
    } catch (failure) {
      if (!isComfyVastError(failure, 'SSH_ERROR') || failure.details.reason !== 'disconnected') throw failure;
      const received = typeof failure.details.bytes === 'number' ? failure.details.bytes : 0;
      offset += received;
      drops = received > 0 ? 1 : drops + 1;
      if (drops > (options.maxDrops ?? 5)) throw failure;
    }
  }
}
