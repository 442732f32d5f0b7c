import { ComfyConnection, type ComfyConnectionOptions } from './comfy-connection.js';

export interface ComfyTarget {
  url: string;
  token?: string;
  basicAuth?: string;
}

/** One `ComfyConnection` per ComfyUI (URL and credentials), so every prompt to a server shares its one socket. */
export class ComfyConnectionPool {
  readonly #connections = new Map<string, ComfyConnection>();

  constructor(private readonly options: Omit<ComfyConnectionOptions, 'url' | 'token' | 'basicAuth'> = {}) {}

  /** The connection to a ComfyUI; `clientId` applies only when it is created (see ComfyConnectionOptions). */
  get(target: ComfyTarget, options: { clientId?: string } = {}): ComfyConnection {
    const key = `${target.url}\n${target.token ?? ''}\n${target.basicAuth ?? ''}`;
    let connection = this.#connections.get(key);
    if (!connection) {
      connection = new ComfyConnection({ ...this.options, url: target.url, token: target.token, basicAuth: target.basicAuth, clientId: options.clientId });
      this.#connections.set(key, connection);
    }
    return connection;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
