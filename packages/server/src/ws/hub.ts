import { ComfyVastError, apiLimitKey, isComfyVastError, onResult, rateLimitError, systemClock, type Clock, type Logger, type RateLimiter, type TimerHandle, type UserService } from '@comfy-vast/core';
import type { WebSocket } from 'ws';
import { ClientMessage, type SocketError, type SocketEvent } from '../contract/index.js';

/** What a subscription follows: a generation or a server, named by the id field of its messages. */
export type TopicKey = 'generationId' | 'serverId' | 'executionId' | 'downloadId';

/**
 * Says whether a user may follow a resource, and what to send at once when they start:
 * a replay of what they missed, or the final event of something already finished.
 * Null means missing, which is also the answer for another user's resource.
 */
export interface TopicProvider {
  subscribe(userId: number, id: number, since?: number, options?: SubscribeOptions): SocketEvent[] | null;
  /** Called when the last subscriber of a resource leaves (idle tracking uses it). */
  unsubscribed?(id: number): void;
}

/** What a subscriber asked for besides the events themselves. */
export interface SubscribeOptions {
  /** Preview images (large, many): only subscribers that want them get them. */
  previews: boolean;
}

export interface PublishOptions {
  /** Skipped for a connection whose queue is past the soft limit (previews and progress): a later event supersedes it. */
  droppable?: boolean;
  /**
   * What subscribers that did not ask for previews get instead of `event`: the event without its preview, or null
   * for nothing (an event that only brings a preview). Absent, everyone gets `event`.
   */
  withoutPreviews?: SocketEvent | null;
}

interface Connection {
  socket: WebSocket;
  userId: number | null;
  topics: Set<string>;
  alive: boolean;
  /** The remote address, while the connection holds one of its unauthenticated places. */
  waitingFrom: string | null;
  authTimer: TimerHandle | null;
  /** Messages refused in a row (over the limit, or before auth). */
  refused: number;
}

export interface HubOptions {
  users: UserService;
  logger: Logger;
  /** The API limiter: each message of an authenticated client counts against its user, as an HTTP request does. */
  apiLimiter: RateLimiter;
  clock?: Clock;
  /** A client that has not authenticated this long after connecting is closed (default 5 s). */
  authTimeoutMs?: number;
  /** Connections not yet authenticated held at once per remote address; more are refused (default 20). */
  maxUnauthenticatedPerAddress?: number;
  /** A client whose messages are refused this many times in a row is closed (default 20). */
  maxRefusedMessages?: number;
  /** Above this many queued bytes a connection gets no droppable events (previews). */
  softBufferBytes?: number;
  /** Above this many queued bytes a connection is closed; it can resubscribe with `since`. */
  hardBufferBytes?: number;
  heartbeatMs?: number;
}

/**
 * The WebSocket side of the API. It takes the sockets the upgrade route accepted (see http/websocket-routes.ts):
 * those whose upgrade carried a token arrive authenticated, the others must send a first `{type:"auth"}` message.
 * Clients subscribe to their own generations or servers and receive events that services publish. Each message
 * counts against its user's API limit; unauthenticated clients get a few seconds and a few places per address.
 */
export class WebSocketHub {
  #users: UserService;
  #logger: Logger;
  #apiLimiter: RateLimiter;
  #clock: Clock;
  #authTimeoutMs: number;
  #maxWaitingPerAddress: number;
  #maxRefused: number;
  /** Unauthenticated connections per remote address. */
  #waiting = new Map<string, number>();
  #providers = new Map<TopicKey, TopicProvider>();
  /** Subscribers of each topic, each with whether it wants previews. */
  #subscribers = new Map<string, Map<Connection, boolean>>();
  #connections = new Set<Connection>();
  #soft: number;
  #hard: number;
  #heartbeat: NodeJS.Timeout;
  #dropped = 0;

  constructor(options: HubOptions) {
    this.#users = options.users;
    this.#logger = options.logger;
    this.#apiLimiter = options.apiLimiter;
    this.#clock = options.clock ?? systemClock;
    this.#authTimeoutMs = options.authTimeoutMs ?? 5_000;
    this.#maxWaitingPerAddress = options.maxUnauthenticatedPerAddress ?? 20;
    this.#maxRefused = options.maxRefusedMessages ?? 20;
    this.#soft = options.softBufferBytes ?? 1024 * 1024;
    this.#hard = options.hardBufferBytes ?? 16 * 1024 * 1024;
    this.#heartbeat = setInterval(() => this.#checkAlive(), options.heartbeatMs ?? 30_000);
    this.#heartbeat.unref();
  }

  registerTopic(key: TopicKey, provider: TopicProvider): void {
    this.#providers.set(key, provider);
  }

  /**
   * Sends an event to everyone subscribed to the resource: it is serialised once (twice at most, when some
   * subscribers get it without previews) and the same bytes go to every socket. Droppable events skip slow consumers.
   */
  publish(key: TopicKey, id: number, event: SocketEvent, options: PublishOptions = {}): void {
    const subs = this.#subscribers.get(`${key}:${id}`);
    if (!subs) return;
    const full = encode(event);
    let plain: Buffer | null | undefined = options.withoutPreviews === undefined ? full : undefined;
    for (const [conn, previews] of subs) {
      let data = full;
      if (!previews) {
        if (plain === undefined) plain = options.withoutPreviews ? encode(options.withoutPreviews) : null;
        if (plain === null) continue;
        data = plain;
      }
      const queued = conn.socket.bufferedAmount;
      if (queued > this.#hard) {
        this.#logger.warn({ userId: conn.userId, queued }, 'closing a WebSocket that does not keep up');
        conn.socket.close(1013, 'too slow: reconnect and subscribe with since');
        continue;
      }
      if (options.droppable && queued > this.#soft) {
        this.#dropped++;
        continue;
      }
      conn.socket.send(data, TEXT);
    }
  }

  /** Sends an event to every connection of one user (account-wide news such as budget warnings). */
  publishToUser(userId: number, event: SocketEvent): void {
    const data = encode(event);
    for (const conn of this.#connections) if (conn.userId === userId && conn.socket.readyState === conn.socket.OPEN) conn.socket.send(data, TEXT);
  }

  /** How many subscribers follow a resource. */
  subscriberCount(key: TopicKey, id: number): number {
    return this.#subscribers.get(`${key}:${id}`)?.size ?? 0;
  }

  get stats(): { connections: number; dropped: number } {
    return { connections: this.#connections.size, dropped: this.#dropped };
  }

  /**
   * Refuses one more unauthenticated socket from an address that holds all its places. A place frees within the
   * auth timeout, when a waiting socket authenticates or is closed: that is the wait the refusal names.
   */
  assertRoomToWait(address: string): void {
    if ((this.#waiting.get(address) ?? 0) < this.#maxWaitingPerAddress) return;
    const retryAfter = Math.ceil(this.#authTimeoutMs / 1000);
    throw new ComfyVastError('RATE_LIMIT_EXCEEDED', `Too many connections waiting to authenticate: the limit is ${this.#maxWaitingPerAddress} per address. Try again in ${retryAfter} s.`, {
      details: { limit: this.#maxWaitingPerAddress, retryAfter },
    });
  }

  /**
   * Takes an upgraded socket: `userId` is its user when the upgrade was authenticated, else null, and the socket
   * takes one of its address's places until it authenticates (see assertRoomToWait).
   */
  accept(socket: WebSocket, userId: number | null, address: string): void {
    const conn: Connection = { socket, userId, topics: new Set(), alive: true, waitingFrom: null, authTimer: null, refused: 0 };
    this.#connections.add(conn);
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data, isBinary) => this.#onMessage(conn, isBinary ? null : data.toString()));
    socket.on('close', () => this.#drop(conn));
    if (userId === null) {
      // A client that does not authenticate soon gives its place back: sockets left waiting would pile up.
      conn.waitingFrom = address;
      this.#waiting.set(address, (this.#waiting.get(address) ?? 0) + 1);
      conn.authTimer = this.#clock.setTimeout(() => socket.close(4401, 'authenticate first'), this.#authTimeoutMs);
    } else {
      send(conn, { type: 'ready', userId });
    }
  }

  /** Stops the heartbeat and closes every socket; the WebSocket server waits for them to go. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const conn of this.#connections) conn.socket.close(1001, 'server shutting down');
  }

  #onMessage(conn: Connection, text: string | null): void {
    if (conn.userId === null) return this.#handle(conn, text);
    // Counted before anything else, so that a flood of messages, valid or not, spends the user's limit.
    const counted = onResult(this.#apiLimiter.consume(apiLimitKey(conn.userId)), (result) => {
      if (result.allowed) return this.#handle(conn, text);
      const error = rateLimitError(result, 'messages');
      this.#refuse(conn, errorEvent(error.code, error.message, error.details));
    });
    // A limit shared through Redis answers later (in the order asked); when Redis does not, the message is refused.
    if (counted instanceof Promise) {
      counted.catch((err: unknown) => {
        if (isComfyVastError(err, 'SERVICE_UNAVAILABLE')) send(conn, errorEvent(err.code, err.message));
        else this.#logger.error({ err, userId: conn.userId }, 'WebSocket message failed');
      });
    }
  }

  #handle(conn: Connection, text: string | null): void {
    let message: ClientMessage;
    try {
      const parsed = ClientMessage.safeParse(text === null ? null : JSON.parse(text));
      if (!parsed.success) return this.#invalid(conn, errorEvent('VALIDATION_ERROR', 'Unknown or malformed message', { issues: parsed.error.issues.map((i) => i.message) }));
      message = parsed.data;
    } catch {
      return this.#invalid(conn, errorEvent('VALIDATION_ERROR', 'Messages must be JSON'));
    }
    if (message.type === 'auth') {
      const user = this.#users.authenticate(message.token);
      if (!user) {
        send(conn, errorEvent('UNAUTHORIZED', 'Unknown or revoked token'));
        return void conn.socket.close(4401, 'unauthorized');
      }
      this.#stopWaiting(conn);
      conn.userId = user.id;
      conn.refused = 0;
      return send(conn, { type: 'ready', userId: user.id });
    }
    if (conn.userId === null) return this.#refuse(conn, errorEvent('UNAUTHORIZED', 'Send {"type":"auth","token":"..."} first'));
    conn.refused = 0;
    if (message.type === 'ping') return send(conn, { type: 'pong' });
    const [key, id] =
      'generationId' in message
        ? (['generationId', message.generationId] as const)
        : 'executionId' in message
          ? (['executionId', message.executionId] as const)
          : 'downloadId' in message
            ? (['downloadId', message.downloadId] as const)
            : (['serverId', message.serverId] as const);
    if (message.type === 'unsubscribe') return this.#unsubscribe(conn, `${key}:${id}`);
    // Previews by default, as the contract's progress events carry them; `previews: false` declines them.
    const previews = !('previews' in message) || message.previews !== false;
    this.#subscribe(conn, key, id, 'since' in message ? message.since : undefined, { previews });
  }

  #subscribe(conn: Connection, key: TopicKey, id: number, since: number | undefined, options: SubscribeOptions): void {
    const provider = this.#providers.get(key);
    const initial = provider?.subscribe(conn.userId!, id, since, options) ?? null;
    if (initial === null) {
      const what = key === 'generationId' ? 'Generation' : key === 'executionId' ? 'Execution' : key === 'downloadId' ? 'Download' : 'Server';
      const code = key === 'serverId' ? 'SERVER_NOT_FOUND' : 'NOT_FOUND';
      return send(conn, { ...errorEvent(code, `${what} ${id} not found`), ...topicId(key, id) });
    }
    const topic = `${key}:${id}`;
    let subs = this.#subscribers.get(topic);
    if (!subs) this.#subscribers.set(topic, (subs = new Map()));
    subs.set(conn, options.previews);
    conn.topics.add(topic);
    send(conn, { type: 'subscribed', ...topicId(key, id) });
    for (const event of initial) send(conn, event);
  }

  #unsubscribe(conn: Connection, topic: string): void {
    conn.topics.delete(topic);
    const subs = this.#subscribers.get(topic);
    if (!subs) return;
    subs.delete(conn);
    if (subs.size > 0) return;
    this.#subscribers.delete(topic);
    const [key, id] = topic.split(':') as [TopicKey, string];
    this.#providers.get(key)?.unsubscribed?.(Number(id));
  }

  /** Answers a message that was not acted on; a client that keeps sending them is closed. */
  #refuse(conn: Connection, event: SocketError): void {
    send(conn, event);
    conn.refused++;
    if (conn.refused >= this.#maxRefused) {
      this.#logger.warn({ userId: conn.userId, refused: conn.refused }, 'closing a WebSocket that keeps sending refused messages');
      conn.socket.close(1008, 'too many refused messages');
    }
  }

  /** A malformed message is refused before auth (nothing else is accepted then), and only answered after it. */
  #invalid(conn: Connection, event: SocketError): void {
    if (conn.userId === null) return this.#refuse(conn, event);
    send(conn, event);
  }

  /** The connection no longer waits for auth: its timer stops and its address gets its place back. */
  #stopWaiting(conn: Connection): void {
    if (conn.authTimer) this.#clock.clearTimeout(conn.authTimer);
    conn.authTimer = null;
    const address = conn.waitingFrom;
    if (address === null) return;
    conn.waitingFrom = null;
    const left = (this.#waiting.get(address) ?? 1) - 1;
    if (left > 0) this.#waiting.set(address, left);
    else this.#waiting.delete(address);
  }

  #drop(conn: Connection): void {
    this.#stopWaiting(conn);
    for (const topic of [...conn.topics]) this.#unsubscribe(conn, topic);
    this.#connections.delete(conn);
  }

  #checkAlive(): void {
    for (const conn of this.#connections) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }
}

/** Sent as text frames: the bytes are JSON. */
const TEXT = { binary: false } as const;

/** An event as the bytes every socket gets (a Buffer, which ws frames without converting it again for each socket). */
function encode(event: SocketEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

function send(conn: Connection, event: SocketEvent): void {
  if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(encode(event), TEXT);
}

function errorEvent(code: string, error: string, details: Record<string, unknown> = {}): SocketError {
  return { type: 'error', data: { error, code, details } };
}

/** The field that names the resource in a message about it. */
function topicId(key: TopicKey, id: number): { generationId: number } | { serverId: number } | { executionId: number } | { downloadId: number } {
  if (key === 'downloadId') return { downloadId: id };
  if (key === 'executionId') return { executionId: id };
  return key === 'generationId' ? { generationId: id } : { serverId: id };
}
