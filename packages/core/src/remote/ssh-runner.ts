import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { Client, ClientChannel } from 'ssh2';
import { ComfyVastError, isComfyVastError } from '../errors/index.js';
import { systemClock, sleep, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from '../vast/backoff.js';
import { parseRemoteLine, type RemoteLine } from './lines.js';
import { scriptCommand, scriptHashCommand, scriptUploadCommand } from './remote-commands.js';
import { Slots } from './slots.js';

/**
 * Where one server's SSH daemon answers: the servers domain's SshEndpoint (`host`, `port`, `user`) plus `server`,
 * which names it for the host key pin and the shared connection.
 */
export interface RemoteHost {
  server: string;
  host: string;
  port: number;
  user: string;
}

/** Host key fingerprints pinned on first use, one per server (`SHA256:...`, as `ssh-keygen -l` prints them). */
export interface HostKeyPins {
  get(server: string): string | undefined | Promise<string | undefined>;
  set(server: string, fingerprint: string): void | Promise<void>;
}

export interface SshRunnerOptions {
  /** The installation's private key (OpenSSH format). */
  privateKey: string | Buffer;
  pins: HostKeyPins;
  /** The text of remote.sh (see loadRemoteScript), uploaded whenever the server's copy differs. */
  script: string;
  /** The script's folder, relative to the login's home (default `.comfy-vast`). */
  remoteDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** Fails a connection attempt that is not ready after this long (default 20 s). */
  connectTimeoutMs?: number;
  /** SSH keepalive: a dead link is noticed after interval × count (defaults 15 s × 4). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Waits between connection attempts (defaults: 1 s doubling to 30 s, giving up after 120 s). */
  backoff?: BackoffOptions;
  random?: () => number;
  /** Channels open at once on one connection; sshd refuses sessions past its MaxSessions (10 by default). */
  maxChannels?: number;
}

export interface RunOptions {
  /** Written to the command's stdin, then closed: the only way a secret reaches the server. */
  stdin?: string;
  /** Each complete line, parsed and typed, with the run's bytes so far (this line included). */
  onLine?: (line: RemoteLine, bytes: number) => void;
  signal?: AbortSignal;
  /** Fails the run when it has not finished after this long; none by default, as jobs are followed for hours. */
  timeoutMs?: number;
}

export interface RunResult {
  /** The remote command's exit status (null when it ended on a signal). */
  exitCode: number | null;
  /** Bytes of the complete lines received: the offset to re-attach from. */
  bytes: number;
}

interface Connection {
  client: Client;
  channels: Slots;
  script?: Promise<void>;
}

const RETRYABLE = new Set(['connect', 'timeout', 'disconnected']);

/** Why an SSH failure happened, kept in the error's details: connect, auth, host-key, timeout, disconnected, command. */
export function sshError(reason: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): ComfyVastError {
  return new ComfyVastError('SSH_ERROR', message, { details: { reason, ...details }, cause });
}

/** The OpenSSH fingerprint of a host key blob. */
export const hostKeyFingerprint = (key: Buffer): string => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

/**
 * Runs remote.sh subcommands on servers over SSH: key auth, the host key pinned on first use, one connection per
 * server shared by every command, reconnection with backoff, and the script uploaded when its hash changed.
 */
export class SshRunner {
  readonly #options: SshRunnerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #remoteDir: string;
  readonly #scriptHash: string;
  readonly #backoff: Required<BackoffOptions>;
  readonly #connections = new Map<string, Promise<Connection>>();

  constructor(options: SshRunnerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#remoteDir = options.remoteDir ?? '.comfy-vast';
    this.#scriptHash = createHash('sha256').update(options.script).digest('hex');
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  }

  /** Runs `remote.sh <args>` on the server, streaming its lines. */
  async run(endpoint: RemoteHost, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const connection = await this.#connection(endpoint, options.signal);
    await this.#ensureScript(endpoint, connection);
    return connection.channels.run(() => this.#exec(connection.client, scriptCommand(this.#remoteDir, args), options));
  }

  /** Closes the server's connection (the next run opens a new one). */
  close(server: string): void {
    const pending = this.#connections.get(server);
    this.#connections.delete(server);
    pending?.then((connection) => connection.client.end(), () => undefined);
  }

  closeAll(): void {
    for (const server of [...this.#connections.keys()]) this.close(server);
  }

  #connection(endpoint: RemoteHost, signal?: AbortSignal): Promise<Connection> {
    let pending = this.#connections.get(endpoint.server);
    if (!pending) {
      pending = this.#connectWithBackoff(endpoint, signal);
      this.#connections.set(endpoint.server, pending);
      pending.catch(() => {
        if (this.#connections.get(endpoint.server) === pending) this.#connections.delete(endpoint.server);
      });
    }
    return pending;
  }

  async #connectWithBackoff(endpoint: RemoteHost, signal?: AbortSignal): Promise<Connection> {
    const started = this.#clock.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#open(endpoint);
      } catch (error) {
        const reason = isComfyVastError(error, 'SSH_ERROR') ? error.details.reason : undefined;
        if (typeof reason !== 'string' || !RETRYABLE.has(reason)) throw error;
        const wait = backoffDelay(attempt, this.#backoff, this.#options.random ?? Math.random);
        if (this.#clock.now() + wait - started > this.#backoff.deadlineMs) throw error;
        this.#logger.debug({ server: endpoint.server, attempt, wait, reason }, 'ssh connection failed, retrying');
        await sleep(this.#clock, wait, signal);
      }
    }
  }

  #open(endpoint: RemoteHost): Promise<Connection> {
    const where = { server: endpoint.server, host: endpoint.host, port: endpoint.port };
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let hostKeyMismatch = false;
      let settled = false;
      const fail = (error: ComfyVastError) => {
        if (settled) return;
        settled = true;
        this.#clock.clearTimeout(timer);
        client.destroy();
        reject(error);
      };
      const timer = this.#clock.setTimeout(
        () => fail(sshError('timeout', `SSH connection to ${endpoint.host}:${endpoint.port} timed out`, where)),
        this.#options.connectTimeoutMs ?? 20_000,
      );
      client.on('error', (error: Error & { level?: string }) => {
        if (hostKeyMismatch) return fail(sshError('host-key', `The host key of ${endpoint.host}:${endpoint.port} changed since it was pinned`, where));
        if (error.level === 'client-authentication') return fail(sshError('auth', `SSH key refused by ${endpoint.host}:${endpoint.port}`, where));
        if (!settled) return fail(sshError('connect', `SSH connection to ${endpoint.host}:${endpoint.port} failed: ${error.message}`, where));
        this.#logger.warn({ ...where, err: error.message }, 'ssh connection error');
      });
      client.on('close', () => {
        fail(sshError('connect', `SSH connection to ${endpoint.host}:${endpoint.port} closed during the handshake`, where));
        void this.#forget(endpoint.server, client);
      });
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        this.#clock.clearTimeout(timer);
        resolve({ client, channels: new Slots(this.#options.maxChannels ?? 8) });
      });
      const connect = (config: Parameters<Client['connect']>[0]) => {
        try {
          client.connect(config);
        } catch (error) {
          // ssh2 throws at once on a private key it cannot parse; the key itself stays out of the error.
          fail(sshError('auth', 'The installation\'s SSH key cannot be read', where, error));
        }
      };
      connect({
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.user,
        privateKey: this.#options.privateKey,
        keepaliveInterval: this.#options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: this.#options.keepaliveCountMax ?? 4,
        // The connect timeout runs on the injected clock; ssh2's own is pushed out of the way.
        readyTimeout: 2 ** 31 - 1,
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          const fingerprint = hostKeyFingerprint(key);
          void Promise.resolve(this.#options.pins.get(endpoint.server))
            .then(async (pinned) => {
              if (pinned === undefined) {
                await this.#options.pins.set(endpoint.server, fingerprint);
                return true;
              }
              hostKeyMismatch = pinned !== fingerprint;
              return !hostKeyMismatch;
            })
            .then(verify, () => verify(false));
        },
      });
    });
  }

  async #forget(server: string, client: Client): Promise<void> {
    const pending = this.#connections.get(server);
    if (!pending) return;
    const current = await pending.catch(() => undefined);
    if (current?.client === client && this.#connections.get(server) === pending) this.#connections.delete(server);
  }

  #ensureScript(endpoint: RemoteHost, connection: Connection): Promise<void> {
    connection.script ??= (async () => {
      const hash = await this.#text(connection, scriptHashCommand(this.#remoteDir));
      if (hash.slice(0, 64) === this.#scriptHash) return;
      this.#logger.info({ server: endpoint.server }, 'installing remote.sh');
      await this.#text(connection, scriptUploadCommand(this.#remoteDir), this.#options.script);
    })();
    connection.script.catch(() => {
      connection.script = undefined;
    });
    return connection.script;
  }

  /** A plain command's stdout, failing on a non-zero exit. */
  async #text(connection: Connection, command: string, stdin?: string): Promise<string> {
    const chunks: Buffer[] = [];
    const { exitCode } = await connection.channels.run(() =>
      this.#channel(connection.client, command, stdin, undefined, undefined, (chunk) => chunks.push(chunk)),
    );
    if (exitCode !== 0) throw sshError('command', `A setup command failed on the server (exit ${exitCode})`, { exitCode });
    return Buffer.concat(chunks).toString('utf8');
  }

  async #exec(client: Client, command: string, options: RunOptions): Promise<RunResult> {
    let pending: Buffer = Buffer.alloc(0);
    let bytes = 0;
    let failure: unknown;
    const onData = (chunk: Buffer) => {
      if (failure) return;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (let end = pending.indexOf(0x0a); end >= 0; end = pending.indexOf(0x0a)) {
        const text = pending.subarray(0, end).toString('utf8');
        pending = pending.subarray(end + 1);
        // Empty lines are the follower's heartbeat, not part of a job's log: they do not move the offset.
        if (text.trim() === '') continue;
        bytes += end + 1;
        try {
          options.onLine?.(parseRemoteLine(text), bytes);
        } catch (error) {
          failure = error;
          return;
        }
      }
    };
    const result = await this.#channel(client, command, options.stdin, options.signal, options.timeoutMs, onData, () => bytes);
    if (failure) throw failure;
    return { exitCode: result.exitCode, bytes };
  }

  /** Opens one exec channel and resolves with its exit status once it closes. */
  #channel(
    client: Client,
    command: string,
    stdin: string | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    onData: (chunk: Buffer) => void,
    received: () => number = () => 0,
  ): Promise<{ exitCode: number | null }> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const opened = (error: Error | undefined, stream: ClientChannel) => {
        if (error) return reject(sshError('disconnected', `The server refused a command channel: ${error.message}`, { bytes: 0 }, error));
        let exitCode: number | null | undefined;
        let settled = false;
        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          if (timer) this.#clock.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          outcome();
        };
        // Leaving closes our end at once; the remote follower notices on its next heartbeat and exits.
        const leave = (reason: unknown) =>
          settle(() => {
            stream.close();
            reject(reason);
          });
        const timer =
          timeoutMs === undefined
            ? undefined
            : this.#clock.setTimeout(
                () => leave(sshError('timeout', `The server did not finish a command within ${timeoutMs} ms`, { bytes: received() })),
                timeoutMs,
              );
        const onAbort = () => leave(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('data', onData);
        // remote.sh writes its own output as lines on stdout; stderr only carries the shell's complaints.
        stream.stderr.on('data', (chunk: Buffer) => this.#logger.debug({ stderr: chunk.toString('utf8').slice(0, 500) }, 'remote stderr'));
        stream.on('exit', (code: number | null) => {
          exitCode = code;
        });
        stream.on('close', () =>
          settle(() => {
            // A channel that closes without an exit status lost its connection.
            if (exitCode === undefined) reject(sshError('disconnected', 'The SSH connection dropped during a command', { bytes: received() }));
            else resolve({ exitCode });
          }),
        );
        stream.end(stdin ?? '');
      };
      try {
        client.exec(command, opened);
      } catch (error) {
        reject(sshError('disconnected', 'The SSH connection is gone', { bytes: 0 }, error));
      }
    });
  }
}
