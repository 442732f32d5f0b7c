import { ComfyConnection, type ComfyConnectionOptions } from './comfy-connection.js';

export interface ComfyTarget {
  url: string;
  token?: string;
  basicAuth?: string;
}

/**
 * The connections to each ComfyUI (URL and credentials), by client id: every prompt a process submits to a server
 * shares one socket, and a socket of another client id is opened only when asked for by name (ComfyUI sends a
 * prompt's events to the socket of the client id that submitted it, so following a prompt another process submitted
 * needs that process's client id).
 */
export class ComfyConnectionPool {
  readonly #connections = new Map<string, Map<string, ComfyConnection>>();

  constructor(private readonly options: Omit<ComfyConnectionOptions, 'url' | 'token' | 'basicAuth'> = {}) {}

  /** The connection to a ComfyUI with this client id; without one, any open connection to it, else a new one. */
  get(target: ComfyTarget, options: { clientId?: string } = {}): ComfyConnection {
    const key = `${target.url}\n${target.token ?? ''}\n${target.basicAuth ?? ''}`;
    let byClient = this.#connections.get(key);
    if (!byClient) this.#connections.set(key, (byClient = new Map()));
    const existing = options.clientId === undefined ? byClient.values().next().value : byClient.get(options.clientId);
    if (existing) return existing;
    const connection = new ComfyConnection({ ...this.options, url: target.url, token: target.token, basicAuth: target.basicAuth, clientId: options.clientId });
    byClient.set(connection.socket.clientId, connection);
    return connection;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#connections.values()].flatMap((byClient) => [...byClient.values()]);
    this.#connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
