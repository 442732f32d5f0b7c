import { createHash } from 'node:crypto';
import type { VirtualHostState, VirtualJobState, VirtualModel } from './virtual-host-state.js';

export type { VirtualModel } from './virtual-host-state.js';

/** What a URL serves on the fake host: its size and, when known, its sha256 (a download checks it when asked). */
export interface VirtualRemoteFile {
  bytes: number;
  sha256?: string;
}

export interface VirtualHostOptions {
  /** Milliseconds between two lines of a running job (default 20); `setTickMs` changes it. */
  tickMs?: number;
  /** What each URL serves; an unknown URL serves `defaultBytes` (default 64 MiB) with no checksum. */
  remoteFiles?: Record<string, VirtualRemoteFile>;
  defaultBytes?: number;
  /** Progress lines of one download (default 4). */
  progressSteps?: number;
  /** Free space on the models' disk (default 500 GB): a download that needs more fails with reason `disk`. */
  freeBytes?: number;
  /** What the host held when last saved (see `snapshot`); its running jobs go on from their logs at `start()`. */
  state?: VirtualHostState;
  /** Called after every change of what `snapshot()` answers, so an owner can save it. */
  onChange?: () => void;
}

/** How the next download fails, with the lines and exit code remote.sh gives for it. */
export type DownloadFault = 'checksum' | 'size' | 'http' | 'transfer';

const FAULT_LINES: Record<DownloadFault, { error: string; reason: string; rc: number }> = {
  checksum: { error: 'sha256 mismatch', reason: 'checksum', rc: 6 },
  size: { error: 'the size differs from Content-Length', reason: 'size', rc: 5 },
  http: { error: 'the server refused the download', reason: 'http', rc: 4 },
  transfer: { error: 'the download kept failing (curl 18)', reason: 'transfer', rc: 7 },
};

interface Job extends VirtualJobState {
  listeners: Set<() => void>;
  timer: NodeJS.Timeout | null;
}

/** A line of a job's log, or an effect run at that point that may end the job with an exit code (null: go on). */
type Script = Array<string | (() => number | null)>;

const SETUP_STEPS = [
  'Installing system dependencies',
  'Setting up Python environment',
  'Cloning ComfyUI repository',
  'Installing ComfyUI requirements',
  'Downloading basic models',
  'Starting ComfyUI server',
];

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+()[\] ,=@-]*$/;
const FOLDER = /^[a-z0-9_]+$/;
const JOB = /^[A-Za-z0-9_-]{1,64}$/;
const LOST = JSON.stringify({ done: true, rc: 255, lost: true });

export type Output = (text: string) => boolean;

/**
 * remote.sh's line protocol spoken natively, over a virtual model folder: setup, reset and downloads run as jobs
 * on timers, re-attachable from a byte offset, with the same lines and exit codes as the real script.
 */
export class VirtualHost {
  readonly models = new Map<string, VirtualModel>();
  /** remote.sh as last uploaded (its hash is what the runner compares). */
  script = '';
  installed = false;
  comfyRunning = false;
  /** Free space on the models' disk; completed downloads take theirs from it. */
  freeBytes: number;
  readonly #jobs = new Map<string, Job>();
  readonly #faults: DownloadFault[] = [];
  readonly #options: Required<Omit<VirtualHostOptions, 'state' | 'onChange' | 'freeBytes'>>;
  readonly #onChange: () => void;

  constructor(options: VirtualHostOptions = {}) {
    this.#options = {
      tickMs: options.tickMs ?? 20,
      remoteFiles: options.remoteFiles ?? {},
      defaultBytes: options.defaultBytes ?? 64 * 1024 * 1024,
      progressSteps: options.progressSteps ?? 4,
    };
    this.#onChange = options.onChange ?? (() => undefined);
    this.freeBytes = options.freeBytes ?? 500e9;
    const state = options.state;
    if (state) {
      this.script = state.script;
      this.installed = state.installed;
      this.comfyRunning = state.comfyRunning;
      this.freeBytes = state.freeBytes;
      for (const model of state.models) this.models.set(`${model.folder}/${model.name}`, { ...model });
      for (const job of state.jobs) this.#jobs.set(job.id, { ...job, listeners: new Set(), timer: null });
    }
  }

  get scriptHash(): string {
    return createHash('sha256').update(this.script).digest('hex');
  }

  /** Puts a file in the virtual model folder, as if it had been there. */
  addModel(folder: string, name: string, bytes: number, partial = false): void {
    this.models.set(`${folder}/${name}`, { folder, name, bytes, partial });
    this.#onChange();
  }

  /** The complete files of each folder, as ComfyUI finds them (partial downloads are `.part` files it ignores). */
  modelFiles(): Record<string, string[]> {
    const files: Record<string, string[]> = {};
    for (const model of this.models.values()) if (!model.partial) (files[model.folder] ??= []).push(model.name);
    return files;
  }

  /** Everything a restart must keep, as plain data (see `VirtualHostOptions.state`). */
  snapshot(): VirtualHostState {
    return {
      script: this.script,
      installed: this.installed,
      comfyRunning: this.comfyRunning,
      freeBytes: this.freeBytes,
      models: [...this.models.values()].map((m) => ({ ...m })),
      jobs: [...this.#jobs.values()].map(({ id, kind, options, log, rc, lost }) => ({ id, kind, options: { ...options }, log, rc, lost })),
    };
  }

  /** Changes the time between two lines of every job from now on. */
  setTickMs(ms: number): void {
    this.#options.tickMs = ms;
  }

  /** Makes the next download that starts fail the way remote.sh reports `fault`. */
  failNextDownload(fault: DownloadFault): void {
    this.#faults.push(fault);
  }

  /**
   * The box comes up: ComfyUI runs when installed (the image supervises it), and jobs that were running when the
   * host was saved go on from where their logs end, as a real box's jobs run on while our server is down.
   */
  start(): void {
    this.comfyRunning = this.installed;
    for (const job of this.#jobs.values()) {
      if (job.rc !== null || job.timer) continue;
      const script = this.#script(job, true);
      let written = job.log.split('\n').filter((line) => line !== '').length;
      while (written > 0 && script.length > 0) if (typeof script.shift() === 'string') written--;
      this.#play(job, script);
    }
    this.#onChange();
  }

  /** The box stops: ComfyUI and every running job with it, which `tail` and `status` then report as lost. */
  halt(): void {
    for (const job of this.#jobs.values()) if (job.rc === null) this.#lose(job);
    this.comfyRunning = false;
    this.#onChange();
  }

  /** The worker of one running job vanishes without an exit code (killed, out of memory). */
  loseJob(id: string): void {
    const job = this.#jobs.get(id);
    if (!job || job.rc !== null) throw new Error(`No running job ${id}`);
    this.#lose(job);
    this.#onChange();
  }

  /** Runs one subcommand. Writes its lines to `out` and resolves with the exit code once it is over. */
  async run(args: string[], stdin: Promise<string>, out: Output, closed: Promise<void>): Promise<number> {
    const [command, ...rest] = args;
    const options = parseOptions(rest);
    if (typeof options === 'string') return usage(out, options);
    switch (command) {
      case 'setup':
      case 'reset':
        if (!options.dir || !options.repo) return usage(out, 'a required option is missing');
        return this.#start(command, options, out, closed);
      case 'download':
        if (!options.models || !options.folder || !options.name || !options.url) return usage(out, 'a required option is missing');
        if (options['token-stdin'] !== undefined) await stdin;
        return this.#start('download', options, out, closed);
      case 'tail': {
        const job = options.job === undefined ? undefined : this.#jobs.get(options.job);
        if (!job) {
          out('{"error":"no such job","reason":"missing"}\n');
          return 3;
        }
        return this.#follow(job, Number(options.offset ?? 0), out, closed);
      }
      case 'models':
        for (const model of this.models.values()) out(`${JSON.stringify(model)}\n`);
        out('{"done":true,"rc":0}\n');
        return 0;
      case 'cancel':
        return this.#cancel(options, out);
      case 'status':
        for (const [id, job] of this.#jobs) {
          const state = job.lost ? 'lost' : job.rc === null ? 'running' : 'done';
          out(`${JSON.stringify({ job: id, kind: job.kind, state, rc: job.lost ? null : job.rc, size: Buffer.byteLength(job.log) })}\n`);
        }
        out(`${JSON.stringify({ comfy: this.comfyRunning })}\n`);
        out('{"done":true,"rc":0}\n');
        return 0;
      default:
        return usage(out, 'unknown subcommand');
    }
  }

  /** remote.sh `cancel`: a running job stops, is recorded as cancelled, and its download's partial file goes. */
  #cancel(options: Record<string, string>, out: Output): number {
    const job = options.job === undefined ? undefined : this.#jobs.get(options.job);
    if (!job) {
      out('{"error":"no such job","reason":"missing"}\n');
      return 3;
    }
    if (job.rc === null) {
      this.#stop(job);
      this.#append(job, JSON.stringify({ error: 'cancelled', reason: 'cancelled' }));
      const key = `${options.folder}/${options.name}`;
      if (this.models.get(key)?.partial) this.models.delete(key);
      this.#finish(job, 130);
    }
    out(`${JSON.stringify({ done: true, rc: job.rc })}\n`);
    return 0;
  }

  /** Stops every running job's timers, leaving the jobs as they are (what `snapshot` saves). */
  close(): void {
    for (const job of this.#jobs.values()) this.#stop(job);
  }

  #start(kind: string, options: Record<string, string>, out: Output, closed: Promise<void>): Promise<number> {
    if (!options.job || !JOB.test(options.job)) return Promise.resolve(usage(out, '--job is required'));
    let job = this.#jobs.get(options.job);
    if (!job) {
      job = { id: options.job, kind, options, log: '', rc: null, lost: false, listeners: new Set(), timer: null };
      this.#jobs.set(options.job, job);
      this.#play(job, this.#script(job, false));
      this.#onChange();
    }
    return this.#follow(job, Number(options.offset ?? 0), out, closed);
  }

  #script(job: Job, resuming: boolean): Script {
    return job.kind === 'download' ? this.#download(job.options, resuming) : this.#setup(job.kind, job.options);
  }

  /** Plays a job's script, one line per tick; effects run at once, with the line after them. */
  #play(job: Job, script: Script): void {
    const next = () => {
      job.timer = null;
      for (let item = script.shift(); ; item = script.shift()) {
        if (item === undefined) return this.#finish(job, 0);
        if (typeof item === 'string') {
          this.#append(job, item);
          break;
        }
        const rc = item();
        if (rc !== null) return this.#finish(job, rc);
      }
      this.#onChange();
      job.timer = setTimeout(next, this.#options.tickMs);
    };
    job.timer = setTimeout(next, this.#options.tickMs);
  }

  #stop(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
  }

  #append(job: Job, line: string): void {
    job.log += `${line}\n`;
    for (const listener of job.listeners) listener();
  }

  #finish(job: Job, rc: number): void {
    job.rc = rc;
    this.#append(job, JSON.stringify({ done: true, rc }));
    this.#onChange();
  }

  #lose(job: Job): void {
    this.#stop(job);
    job.rc = 255;
    job.lost = true;
    this.#append(job, LOST);
  }

  async #follow(job: Job, offset: number, out: Output, closed: Promise<void>): Promise<number> {
    let sent = offset;
    await new Promise<void>((resolve) => {
      const flush = () => {
        const log = Buffer.from(job.log);
        if (log.length > sent) {
          out(log.subarray(sent).toString('utf8'));
          sent = log.length;
        }
        if (job.rc !== null) done();
      };
      const done = () => {
        job.listeners.delete(flush);
        resolve();
      };
      job.listeners.add(flush);
      void closed.then(done);
      flush();
    });
    return 0;
  }

  #setup(kind: string, options: Record<string, string>): Script {
    const base = kind === 'reset' ? 1 : 0;
    const of = SETUP_STEPS.length + base;
    const lines: Script = [];
    if (kind === 'reset') {
      lines.push(JSON.stringify({ step: 1, of, name: 'Removing ComfyUI and its environment' }), () => {
        this.installed = false;
        this.comfyRunning = false;
        if (options['keep-models'] === '0') this.models.clear();
        return null;
      });
    }
    // A reset has just removed what the steps install, so none of its steps is skipped.
    const skipped = kind === 'setup' && this.installed;
    SETUP_STEPS.forEach((name, i) => lines.push(JSON.stringify({ step: base + i + 1, of, name, ...(skipped ? { skipped: true } : {}) })));
    lines.push(() => {
      this.installed = true;
      this.comfyRunning = true;
      return null;
    });
    return lines;
  }

  #download(options: Record<string, string>, resuming: boolean): Script {
    const { folder, name, url, sha256 } = options as Record<'folder' | 'name' | 'url', string> & { sha256?: string };
    const key = `${folder}/${name}`;
    const remote = this.#options.remoteFiles[url] ?? { bytes: this.#options.defaultBytes };
    const existing = this.models.get(key);
    if (existing && !existing.partial) return [JSON.stringify({ bytes: existing.bytes, total: existing.bytes })];
    const have = existing?.bytes ?? 0;
    const fail = (fault: DownloadFault): Script => [JSON.stringify({ error: FAULT_LINES[fault].error, reason: FAULT_LINES[fault].reason }), () => FAULT_LINES[fault].rc];
    if (!resuming && remote.bytes - have > this.freeBytes) {
      return [JSON.stringify({ error: 'not enough disk space', reason: 'disk', need: remote.bytes - have, free: this.freeBytes }), () => 3];
    }
    const fault = resuming ? undefined : this.#faults.shift();
    const partial = (bytes: number) => () => {
      this.models.set(key, { folder, name, bytes, partial: true });
      return null;
    };
    const steps = this.#options.progressSteps;
    // A transfer that keeps failing stops halfway, after remote.sh's four retries.
    const last = fault === 'http' ? 0 : fault === 'transfer' ? Math.floor(steps / 2) : steps;
    const lines: Script = [];
    for (let i = 0; i <= last; i++) {
      const bytes = Math.floor((remote.bytes * i) / steps);
      lines.push(partial(bytes), JSON.stringify({ bytes, total: remote.bytes }));
    }
    if (fault === 'http') return [...lines, ...fail('http')];
    if (fault === 'transfer') return [...lines, ...[1, 2, 3, 4].map((retry) => JSON.stringify({ retry, curl: 18 })), ...fail('transfer')];
    const mismatch = fault === 'checksum' || (sha256 !== undefined && remote.sha256 !== undefined && sha256 !== remote.sha256);
    if (fault === 'size' || mismatch) {
      // remote.sh removes the .part of a file that failed its checks.
      const remove = () => {
        this.models.delete(key);
        return null;
      };
      return [...lines, remove, ...fail(mismatch ? 'checksum' : 'size')];
    }
    lines.push(() => {
      this.models.set(key, { folder, name, bytes: remote.bytes, partial: false });
      this.freeBytes = Math.max(0, this.freeBytes - remote.bytes);
      return 0;
    });
    return lines;
  }
}

function usage(out: Output, message: string): number {
  out(`${JSON.stringify({ error: message, reason: 'usage' })}\n`);
  return 2;
}

const FLAGS = new Set(['token-stdin']);
const CHECKS: Record<string, RegExp> = { job: JOB, folder: FOLDER, name: NAME, offset: /^\d+$/, url: /^https?:\/\/\S+$/, sha256: /^[0-9a-f]{64}$/ };

/** `--key value` pairs (and the one flag), checked as remote.sh checks them; a string is the usage error. */
function parseOptions(args: string[]): Record<string, string> | string {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) return `unknown option ${arg}`;
    const key = arg.slice(2);
    if (FLAGS.has(key)) {
      options[key] = '1';
      continue;
    }
    if (key === 'model') {
      i += 3;
      continue;
    }
    const value = args[++i];
    if (value === undefined) return `missing value for ${arg}`;
    const check = CHECKS[key];
    if (check && !check.test(value)) return `invalid ${key}`;
    if (key === 'name' && value.includes('..')) return 'invalid name';
    options[key] = value;
  }
  return options;
}
