type Listener = (event: ApiEvent) => void;

/** A message from the API's WebSocket: `progress`, `complete`, `error`, server events, ... */
export interface ApiEvent {
  type: string;
  generationId?: number;
  serverId?: number;
  seq?: number;
  data?: Record<string, unknown>;
  [field: string]: unknown;
}

interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void;
}

export type WebSocketConstructor = new (url: string) => SocketLike;

/**
 * The API's event stream over one WebSocket: authenticate, subscribe to generations or servers, listen.
 * Reconnecting is the caller's choice: resubscribe with `since` (the last `seq` seen) to get what was missed.
 */
export class ApiEvents {
  #socket: SocketLike;
  #listeners = new Set<Listener>();
  #closed: Promise<{ code: number; reason: string }>;

  private constructor(socket: SocketLike) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      let parsed: ApiEvent;
      try {
        parsed = JSON.parse(String(event.data)) as ApiEvent;
      } catch {
        return;
      }
      for (const listener of this.#listeners) listener(parsed);
    });
    this.#closed = new Promise((resolve) => socket.addEventListener('close', (e) => resolve({ code: e.code ?? 1006, reason: e.reason ?? '' })));
  }

  /** Opens the socket and waits until the API has accepted the token. */
  static async connect(wsUrl: string, token: string, WebSocketImpl: WebSocketConstructor): Promise<ApiEvents> {
    const socket = new WebSocketImpl(wsUrl);
    const events = new ApiEvents(socket);
    await new Promise<void>((resolve, reject) => {
      const off = events.on((event) => {
        if (event.type === 'ready') {
          off();
          resolve();
        } else if (event.type === 'error' && (event.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED') {
          off();
          reject(new Error('The API refused the token'));
        }
      });
      socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
      socket.addEventListener('error', () => reject(new Error(`Cannot open ${wsUrl}`)));
      void events.#closed.then(({ code, reason }) => reject(new Error(`The event stream closed (${code} ${reason})`)));
    });
    return events;
  }

  /** Calls `listener` for every event; returns the function that stops it. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  subscribe(target: { generationId: number; since?: number } | { serverId: number }): void {
    this.#socket.send(JSON.stringify({ type: 'subscribe', ...target }));
  }

  unsubscribe(target: { generationId: number } | { serverId: number }): void {
    this.#socket.send(JSON.stringify({ type: 'unsubscribe', ...target }));
  }

  /** Resolves when the socket has closed, for whatever reason. */
  get closed(): Promise<{ code: number; reason: string }> {
    return this.#closed;
  }

  close(): void {
    this.#socket.close(1000, 'done');
  }
}
