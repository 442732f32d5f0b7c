import { createHash } from 'node:crypto';

/** A file in the virtual model folder. */
export interface VirtualModel {
  folder: string;
  name: string;
  bytes: number;
  partial: boolean;
}

/** What a URL serves on the fake host: its size and, when known, its sha256 (a download checks it when asked). */
export interface VirtualRemoteFile {
  bytes: number;
  sha256?: string;
}

export interface VirtualHostOptions {
  /** Milliseconds between two lines of a running job (default 20). */
  tickMs?: number;
  /** What each URL serves; an unknown URL serves `defaultBytes` (default 64 MiB) with no checksum. */
  remoteFiles?: Record<string, VirtualRemoteFile>;
  defaultBytes?: number;
  /** Progress lines of one download (default 4). */
  progressSteps?: number;
}

interface Job {
  kind: string;
  log: string;
  rc: number | null;
  listeners: Set<() => void>;
}

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
  readonly #jobs = new Map<string, Job>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #options: Required<Omit<VirtualHostOptions, 'remoteFiles'>> & { remoteFiles: Record<string, VirtualRemoteFile> };

  constructor(options: VirtualHostOptions = {}) {
    this.#options = {
      tickMs: options.tickMs ?? 20,
      remoteFiles: options.remoteFiles ?? {},
      defaultBytes: options.defaultBytes ?? 64 * 1024 * 1024,
      progressSteps: options.progressSteps ?? 4,
    };
  }

  get scriptHash(): string {
    return createHash('sha256').update(this.script).digest('hex');
  }

  /** Puts a file in the virtual model folder, as if it had been there. */
  addModel(folder: string, name: string, bytes: number, partial = false): void {
    this.models.set(`${folder}/${name}`, { folder, name, bytes, partial });
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
        return this.#start(command, options, out, closed, () => this.#setup(command, options));
      case 'download':
        if (!options.models || !options.folder || !options.name || !options.url) return usage(out, 'a required option is missing');
        if (options['token-stdin'] !== undefined) await stdin;
        return this.#start('download', options, out, closed, () => this.#download(options));
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
      case 'status':
        for (const [id, job] of this.#jobs)
          out(`${JSON.stringify({ job: id, kind: job.kind, state: job.rc === null ? 'running' : 'done', rc: job.rc, size: Buffer.byteLength(job.log) })}\n`);
        out(`${JSON.stringify({ comfy: this.comfyRunning })}\n`);
        out('{"done":true,"rc":0}\n');
        return 0;
      default:
        return usage(out, 'unknown subcommand');
    }
  }

  /** Stops every running job's timers. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #start(kind: string, options: Record<string, string>, out: Output, closed: Promise<void>, script: () => Array<string | (() => number | null)>): Promise<number> {
    if (!options.job || !JOB.test(options.job)) return Promise.resolve(usage(out, '--job is required'));
    let job = this.#jobs.get(options.job);
    if (!job) {
      job = { kind, log: '', rc: null, listeners: new Set() };
      this.#jobs.set(options.job, job);
      this.#play(job, script());
    }
    return this.#follow(job, Number(options.offset ?? 0), out, closed);
  }

  /** Appends each line of a job on its own tick; a function computes its exit code when reached (null: go on). */
  #play(job: Job, lines: Array<string | (() => number | null)>): void {
    const next = () => {
      const item = lines.shift();
      if (item === undefined) return this.#finish(job, 0);
      if (typeof item === 'function') {
        const rc = item();
        if (rc !== null) return this.#finish(job, rc);
      } else {
        this.#append(job, item);
      }
      this.#schedule(next);
    };
    this.#schedule(next);
  }

  #schedule(fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, this.#options.tickMs);
    this.#timers.add(timer);
  }

  #append(job: Job, line: string): void {
    job.log += `${line}\n`;
    for (const listener of job.listeners) listener();
  }

  #finish(job: Job, rc: number): void {
    job.rc = rc;
    this.#append(job, JSON.stringify({ done: true, rc }));
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

  #setup(kind: string, options: Record<string, string>): Array<string | (() => number | null)> {
    const base = kind === 'reset' ? 1 : 0;
    const of = SETUP_STEPS.length + base;
    const lines: Array<string | (() => number | null)> = [];
    if (kind === 'reset') {
      lines.push(JSON.stringify({ step: 1, of, name: 'Removing ComfyUI and its environment' }), () => {
        this.installed = false;
        this.comfyRunning = false;
        if (options['keep-models'] === '0') this.models.clear();
        return null;
      });
    }
    const skipped = this.installed;
    SETUP_STEPS.forEach((name, i) => lines.push(JSON.stringify({ step: base + i + 1, of, name, ...(skipped ? { skipped: true } : {}) })));
    lines.push(() => {
      this.installed = true;
      this.comfyRunning = true;
      return null;
    });
    return lines;
  }

  #download(options: Record<string, string>): Array<string | (() => number | null)> {
    const { folder, name, url, sha256 } = options as Record<'folder' | 'name' | 'url', string> & { sha256?: string };
    const key = `${folder}/${name}`;
    const remote = this.#options.remoteFiles[url] ?? { bytes: this.#options.defaultBytes };
    const existing = this.models.get(key);
    if (existing && !existing.partial) return [JSON.stringify({ bytes: existing.bytes, total: existing.bytes })];
    const lines: Array<string | (() => number | null)> = [];
    const steps = this.#options.progressSteps;
    for (let i = 0; i <= steps; i++) {
      const bytes = Math.floor((remote.bytes * i) / steps);
      lines.push(() => {
        this.models.set(key, { folder, name, bytes, partial: true });
        return null;
      }, JSON.stringify({ bytes, total: remote.bytes }));
    }
    lines.push(() => {
      if (sha256 !== undefined && remote.sha256 !== undefined && sha256 !== remote.sha256) {
        this.models.delete(key);
        return null;
      }
      this.models.set(key, { folder, name, bytes: remote.bytes, partial: false });
      return 0;
    }, JSON.stringify({ error: 'sha256 mismatch', reason: 'checksum' }), () => 6);
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
