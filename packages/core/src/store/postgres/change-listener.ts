import pg from 'pg';
import type { Clock, Logger, TimerHandle } from '../../util/index.js';
import { databaseError, errorCode } from './connection.js';

export interface ChangeListenerOptions {
  url: string;
  /** The NOTIFY channel listened to. */
  channel: string;
  clock: Clock;
  logger: Logger;
  /** Reconnects wait from `initialMs`, doubling up to `maxMs`. */
  backoff: { initialMs: number; maxMs: number };
  /** Each notice's payload, in commit order. */
  onNotice(payload: string): void;
  /** After a reconnect: reads again what the notices missed while the connection was down. */
  catchUp(): Promise<void>;
}

/** Shown in pg_stat_activity, so that an operator (and a test) can tell the listening connection from the pool's. */
export const LISTENER_APPLICATION_NAME = 'comfy-vast changes';

/**
 * The connection of its own that LISTENs to the other processes' changes. When it drops, it reconnects with backoff,
 * listens again and then has everything read again (notices sent meanwhile are lost): it is coherent only once that
 * catch-up is done.
 */
export class ChangeListener {
  readonly #o: ChangeListenerOptions;
  #client: pg.Client | null = null;
  #coherent = false;
  #closed = false;
  #retryMs: number;
  #timer: TimerHandle | null = null;

  constructor(options: ChangeListenerOptions) {
    this.#o = options;
    this.#retryMs = options.backoff.initialMs;
  }

  /** Whether every change committed by the others until now has been heard (false from a drop until caught up). */
  get coherent(): boolean {
    return this.#coherent;
  }

  /** Connects and listens; what was written before is for the caller to read after this resolves. */
  async start(): Promise<void> {
    try {
      this.#client = await this.#listen();
    } catch (error) {
      throw databaseError('listen to the changes of other processes on PostgreSQL', error);
    }
    this.#coherent = true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#coherent = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #listen(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.#o.url, application_name: LISTENER_APPLICATION_NAME });
    client.on('notification', (message) => {
      if (client === this.#client && message.channel === this.#o.channel) this.#o.onNotice(message.payload ?? '');
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#o.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  #lost(client: pg.Client, error: unknown): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = null;
    this.#coherent = false;
    client.end().catch(() => undefined);
    this.#o.logger.warn({ err: error && { message: (error as Error).message, code: errorCode(error) } }, 'the connection listening to other processes\u2019 changes dropped; reconnecting');
    this.#retry();
  }

  #retry(): void {
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#o.backoff.maxMs);
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      void this.#reconnect();
    }, wait);
  }

  async #reconnect(): Promise<void> {
    let client: pg.Client | null = null;
    try {
      client = await this.#listen();
      if (this.#closed) return void (await client.end().catch(() => undefined));
      this.#client = client;
      await this.#o.catchUp();
      if (this.#client !== client) return;
      this.#coherent = true;
      this.#retryMs = this.#o.backoff.initialMs;
      this.#o.logger.info({}, 'listening to other processes\u2019 changes again, caught up');
    } catch (error) {
      if (this.#closed) return;
      this.#o.logger.warn({ err: { message: (error as Error).message, code: errorCode(error) } }, 'could not listen to other processes\u2019 changes again; retrying');
      if (client && this.#client === client) {
        this.#client = null;
        await client.end().catch(() => undefined);
      }
      if (!this.#client && !this.#timer) this.#retry();
    }
  }
}
