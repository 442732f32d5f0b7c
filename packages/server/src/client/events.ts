import { SocketEvent, type ClientMessage } from '../contract/socket.js';

/** A message from the API's WebSocket, exactly as the contract declares it. */
export type ApiEvent = SocketEvent;
type Listener = (event: ApiEvent) => void;

type WithoutType<M> = M extends unknown ? Omit<M, 'type'> : never;
/** A generation (with `since`, the last `seq` seen) or a server, as the contract's `subscribe` names them. */
export type SubscribeTarget = WithoutType<Extract<ClientMessage, { type: 'subscribe' }>>;
export type UnsubscribeTarget = WithoutType<Extract<ClientMessage, { type: 'unsubscribe' }>>;

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
      const parsed = SocketEvent.safeParse(parseJson(String(event.data)));
      // A message outside the contract (a newer server's addition, or garbage) is skipped: listeners get only
      // what their type promises, and the stream goes on.
      if (!parsed.success) return;
      for (const listener of this.#listeners) listener(parsed.data);
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
        } else if (event.type === 'error' && 'code' in event.data && event.data.code === 'UNAUTHORIZED') {
          off();
          reject(new Error('The API refused the token'));
        }
      });
      socket.addEventListener('open', () => events.#send({ type: 'auth', token }));
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

  subscribe(target: SubscribeTarget): void {
    this.#send({ type: 'subscribe', ...target });
  }

  unsubscribe(target: UnsubscribeTarget): void {
    this.#send({ type: 'unsubscribe', ...target });
  }

  #send(message: ClientMessage): void {
    this.#socket.send(JSON.stringify(message));
  }

  /** Resolves when the socket has closed, for whatever reason. */
  get closed(): Promise<{ code: number; reason: string }> {
    return this.#closed;
  }

  close(): void {
    this.#socket.close(1000, 'done');
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
