import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { claimOrphans, type WorkOwnership } from '../cluster/orphans.js';
import { ComfyVastError, isComfyVastError } from '../errors/index.js';
import type { RemoteLayout } from '../remote/layout.js';
import type { RemoteLine } from '../remote/lines.js';
import { followJob } from '../remote/remote-job.js';
import type { RemoteHost, SshRunner } from '../remote/ssh-runner.js';
import type { ServerWatchers } from '../scheduler/watchers.js';
import type { Collection, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { appendToLog, isLoggedLine } from './execution-log.js';
import { SCRIPT_IDS, executionsCollection, type BasicModel, type ExecutionError, type ExecutionKind, type ExecutionLogEntry, type ExecutionRecord, type ExecutionStatus } from './records.js';
import { StepTimings, stepsOf } from './step-timings.js';

/** An execution as the library shows it: its record without the user's id, the following process, the job id, the offset or the log. */
export type Execution = Omit<ExecutionRecord, 'userId' | 'jobId' | 'offset' | 'log' | 'lastSeq' | 'stepStartedAt' | 'owner'>;

export interface ExecutionStart {
  execution: Execution;
  /** False when the server already had an execution running: this is that one, and nothing new started. */
  started: boolean;
  /** The step names, in order. */
  steps: readonly string[];
  /** How long the whole execution is expected to take, in ms. */
  estimatedMs: number;
}

export interface ExecutionLog {
  execution: Execution;
  entries: ExecutionLogEntry[];
  /** Entries dropped from the start of a log that outgrew its bound. */
  droppedLines: number;
}

/** One line of an execution's log, as it arrives; `status` is the execution's once the line is applied. */
export interface ExecutionEvent {
  userId: number;
  serverId: number;
  executionId: number;
  seq: number;
  entry: ExecutionLogEntry;
  status: ExecutionStatus;
}

export interface SetupServiceEvents {
  'execution:event': [event: ExecutionEvent];
}

export interface SetupServiceOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The SSH side of a user's server (throws SERVER_NOT_FOUND, NOT_SUPPORTED or SERVER_NOT_RUNNING). */
  remote: (userId: number, serverId: number) => { runner: Pick<SshRunner, 'run'>; host: RemoteHost };
  layout: RemoteLayout;
  watchers: ServerWatchers;
  /** Models each setup fetches when missing (none by default: the step is then skipped). */
  basicModels?: readonly BasicModel[];
  /** With several API processes on one store: each follows the executions it started, and adopts those of a process that is gone. */
  ownership?: WorkOwnership;
}

/** A progress line is saved at most this often; every other line is saved at once. */
const PROGRESS_SAVE_MS = 2_000;

interface Live {
  record: ExecutionRecord;
  abort: AbortController;
  /** Why it was aborted: null when our side is closing (the execution stays running, to re-attach at the next open). */
  abortReason: ExecutionError | null;
  /** Let go because another process ended it or follows it now: it is left as the store holds it. */
  released: boolean;
  saving: Promise<unknown>;
  savedAt: number;
  done: Promise<void>;
}

/**
 * ComfyUI's setup and reset on a server: each runs as a detached remote.sh job, followed line by line into a
 * stored execution (status, current step, the log, the offset reached), so that it is shown after the server
 * stopped and re-attached after a restart of ours. One execution runs per server at a time.
 */
export class SetupService extends EventEmitter<SetupServiceEvents> {
  readonly #o: SetupServiceOptions;
  readonly #executions: Collection<ExecutionRecord>;
  readonly #timings: StepTimings;
  readonly #live = new Map<number, Live>();
  /** Servers whose execution is being created: a second request waits for it instead of starting another. */
  readonly #creating = new Map<number, Promise<ExecutionStart>>();
  /** executionId -> serverId of the executions somebody follows. */
  readonly #followed = new Map<number, number>();
  #closing = false;
  /** The `owner` of the executions this process follows: null in a single process. */
  readonly #self: string | null;

  constructor(options: SetupServiceOptions) {
    super();
    this.#o = options;
    this.#self = options.ownership?.self ?? null;
    this.#executions = options.store.collection(executionsCollection);
    this.#timings = new StepTimings(options.store);
  }

  /**
   * Re-attaches to the executions left running by the last run of ours, from the offsets they reached; with several
   * processes, to those left by a process that is gone.
   */
  async start(): Promise<void> {
    if (this.#o.ownership) return this.adoptOrphans();
    for (const record of this.#executions.filter((r) => r.status === 'running')) this.#attach({ ...record, stepStartedAt: null });
  }

  /**
   * With several processes: takes over the running executions whose process is gone (or that no process follows),
   * each re-attached from the offset it reached as after a restart, and lets go of those another process took over.
   */
  async adoptOrphans(): Promise<void> {
    const ownership = this.#o.ownership;
    if (!ownership) return;
    this.remoteChanged([...this.#live.keys()]);
    const candidates = this.#executions.filter((r) => r.status === 'running' && !this.#live.has(r.id) && r.owner !== ownership.self);
    for (const record of await claimOrphans(this.#executions, candidates, ownership)) {
      this.#o.logger.info({ serverId: record.serverId, executionId: record.id }, 'Following an execution whose process is gone');
      this.#attach({ ...record, stepStartedAt: null });
    }
  }

  /**
   * Records another process changed: an execution followed here that another process ended or took over is let go,
   * without an event (that process sent it); the remote job goes on. Answers the servers of the executions changed
   * elsewhere, whose work idle stop looks at again.
   */
  remoteChanged(ids: readonly number[]): Set<number> {
    const servers = new Set<number>();
    for (const id of ids) {
      const live = this.#live.get(id);
      const record = this.#executions.get(id);
      if (record && record.owner !== this.#self) servers.add(record.serverId);
      if (!live || live.released || (record?.status === 'running' && record.owner === this.#self)) continue;
      live.released = true;
      live.abort.abort(new ComfyVastError('CONFLICT', 'Another process follows this execution now'));
    }
    return servers;
  }

  /** The server runs now: executions asked for while it was coming up begin (those of this process). */
  serverRunning(serverId: number): void {
    for (const record of this.#executions.filter((r) => r.serverId === serverId && r.status === 'running' && r.owner === this.#self)) this.#attach(record);
  }

  /** Starts ComfyUI's setup on the server, or answers the execution already running there. */
  async setup(userId: number, serverId: number): Promise<ExecutionStart> {
    return this.#begin(userId, serverId, 'setup', null);
  }

  /** Removes ComfyUI and its environment (the models too unless `keepModels`) and sets it up again. */
  async reset(userId: number, serverId: number, keepModels: boolean): Promise<ExecutionStart> {
    await this.#creating.get(serverId)?.catch(() => undefined);
    const running = this.#runningOn(serverId);
    if (running) {
      throw new ComfyVastError('CONFLICT', `Server ${serverId} is already running execution ${running.id}: reset once it has finished`, {
        details: { serverId, executionId: running.id },
      });
    }
    return this.#begin(userId, serverId, 'reset', keepModels);
  }

  /** The reset running on a server, if one is: ComfyUI is down or being rebuilt there until it ends. */
  resetRunning(serverId: number): number | null {
    const running = this.#runningOn(serverId);
    return running?.kind === 'reset' ? running.id : null;
  }

  /** The server's executions, newest first. */
  list(serverId: number): Execution[] {
    return this.#executions
      .filter((r) => r.serverId === serverId)
      .reverse()
      .map((r) => this.#view(this.#current(r)));
  }

  /** Whether the server has executions on record (they stay readable after the server is gone). */
  hasExecutions(userId: number, serverId: number): boolean {
    return this.#executions.find((r) => r.serverId === serverId && r.userId === userId) !== undefined;
  }

  /** One execution of the user's with its log; another user's is NOT_FOUND, as a missing one. */
  log(userId: number, serverId: number, executionId: number): ExecutionLog {
    const record = this.#owned(userId, executionId);
    if (record.serverId !== serverId) throw notFound(executionId);
    return { execution: this.#view(record), entries: record.log, droppedLines: record.droppedLines };
  }

  /**
   * Starts following an execution of the user's and returns its lines after `since` (all it kept when absent); the
   * last carries the final status of a finished one. Its server counts as watched until `unfollow`.
   */
  follow(userId: number, executionId: number, since?: number): ExecutionEvent[] {
    const record = this.#owned(userId, executionId);
    if (!this.#followed.has(executionId)) {
      this.#followed.set(executionId, record.serverId);
      this.#o.watchers.watch(record.serverId);
    }
    const last = record.log.at(-1);
    return record.log
      .filter((entry) => since === undefined || entry.seq > since)
      .map((entry) => this.#event(record, entry, entry === last ? record.status : 'running'));
  }

  unfollow(executionId: number): void {
    const serverId = this.#followed.get(executionId);
    if (serverId === undefined) return;
    this.#followed.delete(executionId);
    this.#o.watchers.unwatch(serverId);
  }

  /** Whether a setup or reset runs on the server, and when its remote work last moved (epoch ms, 0 when never). */
  activity(serverId: number): { running: boolean; lastActivityAt: number } {
    const latest = this.#executions.filter((r) => r.serverId === serverId).at(-1);
    if (!latest) return { running: false, lastActivityAt: 0 };
    const record = this.#current(latest);
    const at = record.finishedAt ?? record.log.at(-1)?.at ?? record.startedAt;
    return { running: record.status === 'running', lastActivityAt: Date.parse(at) };
  }

  /**
   * The server stopped or went away: what runs there, or waits for it to run, cannot finish. Each process ends what
   * it follows; what a process that is gone followed ends once adopted.
   */
  serverGone(serverId: number, why: string): void {
    const error = { message: why, reason: 'stopped' };
    for (const record of this.#executions.filter((r) => r.serverId === serverId && r.status === 'running' && r.owner === this.#self)) {
      const live = this.#live.get(record.id);
      if (!live) {
        void this.#fail(record, error);
        continue;
      }
      live.abortReason = error;
      live.abort.abort(new ComfyVastError('SERVER_NOT_RUNNING', why));
    }
  }

  /** Stops following (the remote jobs run on, and are re-attached at the next start) and waits for the last saves. */
  async close(): Promise<void> {
    this.#closing = true;
    const live = [...this.#live.values()];
    for (const l of live) l.abort.abort(new ComfyVastError('SERVICE_UNAVAILABLE', 'Shutting down'));
    await Promise.all(live.map((l) => l.done));
  }

  #begin(userId: number, serverId: number, kind: ExecutionKind, keepModels: boolean | null): Promise<ExecutionStart> {
    // Asked first, so that a server that cannot run it (attached, stopped, another user's) starts nothing; one that
    // is still coming up gets the execution, which begins once it runs.
    try {
      this.#o.remote(userId, serverId);
    } catch (error) {
      if (!comingUp(error)) throw error;
    }
    const pending = this.#creating.get(serverId);
    if (pending) return pending.then((start) => (start.execution.status === 'running' ? { ...start, started: false } : this.#begin(userId, serverId, kind, keepModels)));
    const running = this.#runningOn(serverId);
    if (running) return Promise.resolve(this.#started(running, false));
    const creating = (async () => {
      const now = this.#o.clock.now();
      const record = await this.#executions.insert({
        userId,
        serverId,
        kind,
        scriptId: SCRIPT_IDS[kind],
        jobId: `${kind}-${serverId}-${now.toString(36)}-${randomBytes(4).toString('hex')}`,
        owner: this.#self,
        keepModels,
        status: 'running',
        step: null,
        of: null,
        stepName: null,
        stepSkipped: false,
        stepStartedAt: null,
        offset: 0,
        log: [],
        droppedLines: 0,
        lastSeq: 0,
        startedAt: new Date(now).toISOString(),
        finishedAt: null,
        estimatedCompletion: new Date(now + this.#timings.total(kind)).toISOString(),
        error: null,
      });
      this.#o.logger.info({ serverId, executionId: record.id, kind }, `${kind} started`);
      this.#attach(record);
      return this.#started(record, true);
    })();
    this.#creating.set(serverId, creating);
    void creating.finally(() => this.#creating.delete(serverId)).catch(() => undefined);
    return creating;
  }

  #started(record: ExecutionRecord, started: boolean): ExecutionStart {
    return { execution: this.#view(this.#current(record)), started, steps: stepsOf(record.kind), estimatedMs: this.#timings.total(record.kind) };
  }

  /** Follows a running execution's job, unless it is followed already or its server is still coming up. */
  #attach(record: ExecutionRecord): void {
    if (this.#live.has(record.id)) return;
    let remote;
    try {
      remote = this.#o.remote(record.userId, record.serverId);
    } catch (error) {
      if (!comingUp(error)) void this.#fail(record, { message: `The server cannot run it: ${messageOf(error)}`, reason: 'server' });
      return;
    }
    this.#follow(record, remote);
  }

  #follow(record: ExecutionRecord, remote: { runner: Pick<SshRunner, 'run'>; host: RemoteHost }): void {
    const abort = new AbortController();
    const live: Live = { record, abort, abortReason: null, released: false, saving: Promise.resolve(), savedAt: this.#o.clock.now(), done: Promise.resolve() };
    this.#live.set(record.id, live);
    live.done = (async () => {
      try {
        const outcome = await followJob(remote.runner, remote.host, { args: this.#args(record) }, {
          offset: record.offset,
          signal: abort.signal,
          onLine: (line, offset) => this.#onLine(live, line, offset),
        });
        if (live.released) return;
        await this.#finish(live, outcome.done.rc === 0 ? null : failureOf(outcome.error, outcome.done));
      } catch (error) {
        if ((this.#closing || live.released) && live.abortReason === null) return;
        await this.#finish(live, live.abortReason ?? { message: messageOf(error), reason: reasonOf(error) });
      } finally {
        await live.saving;
        this.#live.delete(record.id);
      }
    })().catch((error: unknown) => this.#o.logger.error({ err: error, executionId: record.id }, 'execution could not be recorded'));
  }

  #args(record: ExecutionRecord): string[] {
    const { comfyDir, venv, repo, ref, port } = this.#o.layout;
    const args = [record.kind, '--job', record.jobId, '--dir', comfyDir, '--venv', venv, '--repo', repo, '--port', String(port)];
    if (ref !== null) args.push('--ref', ref);
    if (record.kind === 'reset') args.push('--keep-models', record.keepModels === false ? '0' : '1');
    for (const model of this.#o.basicModels ?? []) args.push('--model', model.folder, model.filename, model.url);
    return args;
  }

  #onLine(live: Live, line: RemoteLine, offset: number): void {
    if (!isLoggedLine(line)) return;
    const now = this.#o.clock.now();
    const before = live.record;
    let patch: Partial<ExecutionRecord> = { offset };
    if (line.kind === 'step') {
      this.#learnStep(before, now);
      patch = { ...patch, step: line.line.step, of: line.line.of, stepName: line.line.name, stepSkipped: line.line.skipped === true, stepStartedAt: now };
    }
    if (line.kind === 'done' && line.line.rc === 0) this.#learnStep(before, now);
    const { entry, ...log } = appendToLog(before, line, new Date(now).toISOString());
    const record = { ...before, ...patch, ...log };
    record.estimatedCompletion = this.#estimate(record, now);
    live.record = record;
    // A finished job's record is saved by #finish with its status; a progress line waits for the next save.
    if (line.kind !== 'done' && (line.kind !== 'progress' || now - live.savedAt >= PROGRESS_SAVE_MS)) this.#save(live);
    if (line.kind !== 'done') this.#emitEvent(record, entry, 'running');
  }

  #learnStep(record: ExecutionRecord, now: number): void {
    if (record.stepName === null || record.stepSkipped || record.stepStartedAt === null) return;
    void this.#timings.learn(record.stepName, now - record.stepStartedAt).catch((error: unknown) => this.#o.logger.warn({ err: error }, 'step timing not saved'));
  }

  #estimate(record: ExecutionRecord, now: number): string {
    const left = this.#timings.remaining(record.kind, { step: record.step, skipped: record.stepSkipped, startedAt: record.stepStartedAt }, now);
    return new Date(now + left).toISOString();
  }

  #save(live: Live): void {
    // Never the owner: a save queued before another process took the execution over must not take it back.
    const { id, owner: _owner, ...data } = live.record;
    live.savedAt = this.#o.clock.now();
    live.saving = live.saving.then(() => (live.released ? undefined : this.#executions.update(id, data))).catch((error: unknown) => this.#o.logger.error({ err: error, executionId: id }, 'execution not saved'));
  }

  /** Ends a followed execution: completed when `error` is null, else failed with it; the done line is its last entry. */
  async #finish(live: Live, error: ExecutionError | null): Promise<void> {
    const now = this.#o.clock.now();
    let record = live.record;
    let last = record.log.at(-1);
    // Ended on our side (no done line): the reason goes into the log, so that the log says why it stopped.
    if (error && last?.kind !== 'done') {
      const { entry, ...log } = appendToLog(record, { kind: 'error', line: { error: error.message, reason: error.reason } }, new Date(now).toISOString());
      record = { ...record, ...log };
      last = entry;
    }
    const status: ExecutionStatus = error ? 'failed' : 'completed';
    const iso = new Date(now).toISOString();
    live.record = { ...record, status, error, finishedAt: iso, estimatedCompletion: iso };
    this.#save(live);
    await live.saving;
    this.#o.logger.info({ serverId: record.serverId, executionId: record.id, status, reason: error?.reason }, `${record.kind} ${status}`);
    if (last) this.#emitEvent(live.record, last, status);
  }

  /** Fails an execution nobody follows (one that cannot be re-attached, or whose server went while it waited). */
  async #fail(record: ExecutionRecord, error: ExecutionError): Promise<void> {
    if (this.#live.has(record.id)) return;
    const live: Live = { record, abort: new AbortController(), abortReason: error, released: false, saving: Promise.resolve(), savedAt: 0, done: Promise.resolve() };
    // Held as live while it is being failed, so that nothing attaches to it or fails it a second time meanwhile.
    this.#live.set(record.id, live);
    try {
      await this.#finish(live, error);
    } catch (failure) {
      this.#o.logger.error({ err: failure, executionId: record.id }, 'execution could not be recorded');
    } finally {
      this.#live.delete(record.id);
    }
  }

  #emitEvent(record: ExecutionRecord, entry: ExecutionLogEntry, status: ExecutionStatus): void {
    this.emit('execution:event', this.#event(record, entry, status));
  }

  #event(record: ExecutionRecord, entry: ExecutionLogEntry, status: ExecutionStatus): ExecutionEvent {
    return { userId: record.userId, serverId: record.serverId, executionId: record.id, seq: entry.seq, entry, status };
  }

  #runningOn(serverId: number): ExecutionRecord | undefined {
    return this.#executions.find((r) => r.serverId === serverId && r.status === 'running');
  }

  /** The freshest state of a record: a followed execution's lines reach the store a little later than memory. */
  #current(record: ExecutionRecord): ExecutionRecord {
    return this.#live.get(record.id)?.record ?? record;
  }

  #owned(userId: number, executionId: number): ExecutionRecord {
    const record = this.#executions.get(executionId);
    if (!record || record.userId !== userId) throw notFound(executionId);
    return this.#current(record);
  }

  #view(record: ExecutionRecord): Execution {
    const { userId: _u, jobId: _j, offset: _o, log: _l, lastSeq: _s, stepStartedAt: _t, owner: _w, ...view } = record;
    if (record.status !== 'running') return view;
    // While it runs, the estimate moves with the clock: a step that takes longer pushes it out.
    return { ...view, estimatedCompletion: this.#estimate(record, this.#o.clock.now()) };
  }
}

function notFound(executionId: number): ComfyVastError {
  return new ComfyVastError('NOT_FOUND', `Execution ${executionId} not found`, { details: { executionId } });
}

function failureOf(error: { error: string; reason: string } | undefined, done: { rc: number; lost?: true }): ExecutionError {
  if (error) return { message: error.error, reason: error.reason };
  if (done.lost) return { message: 'The setup process on the server vanished (the server restarted, or it was killed)', reason: 'lost' };
  return { message: `The setup script failed (exit ${done.rc})`, reason: 'command' };
}

/** A server that is being created or started (or runs but has no SSH port yet): what it is asked waits for it. */
function comingUp(error: unknown): boolean {
  return isComfyVastError(error, 'SERVER_NOT_RUNNING') && ['creating', 'starting', 'running'].includes(String(error.details.status));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function reasonOf(error: unknown): string {
  if (isComfyVastError(error, 'SSH_ERROR') && typeof error.details.reason === 'string') return `ssh-${error.details.reason}`;
  return isComfyVastError(error) ? error.code.toLowerCase() : 'internal';
}

