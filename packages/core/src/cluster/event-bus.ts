import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../util/index.js';
import { DEFAULT_REDIS_PREFIX } from './redis.js';

/** One event of the library, by name, with its arguments: plain JSON (records keep dates as ISO strings). */
export interface SharedEvent {
  name: string;
  args: unknown[];
}

export interface RedisEventBusOptions {
  /** The process's Redis client; the bus publishes on it and subscribes on a duplicate of its own. */
  redis: Redis;
  logger: Logger;
  /** Prefix of the channel, as of every key comfy-vast writes in Redis (default `comfy-vast:`). */
  prefix?: string;
}

/** What travels on the channel; `from` is the publishing process, which has delivered the event to its own listeners already. */
const envelopeSchema = z.object({ from: z.string(), name: z.string(), args: z.array(z.unknown()) });
type Envelope = z.infer<typeof envelopeSchema>;

/**
 * The library's events, shared by every process on one Redis: each process delivers its own events to its
 * listeners at once and publishes them; the others receive them through one pub/sub channel. An event of a topic
 * (a running generation's progress) goes on a channel of its own instead, received only by the processes that
 * follow the topic: every process does not pay for every progress step of every generation. Each generation's,
 * download's or setup's events come from the one process that runs it, through one connection, and Redis keeps a
 * connection's publications in order, so every process sees them in the order they happened. A process that was
 * disconnected misses what was published meanwhile: replays (`since`) are served from the stored records, not from
 * the channel.
 */
export class RedisEventBus {
  readonly id = randomUUID();
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<(event: SharedEvent) => void>();
  /** The topics followed, by channel. */
  readonly #topics = new Set<string>();
  #failing = false;

  private constructor(redis: Redis, subscriber: Redis, channel: string, logger: Logger) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.#logger = logger;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel && !this.#topics.has(channel)) return;
      const envelope = parseEnvelope(text);
      if (!envelope) return this.#logger.warn({ channel }, 'ignored a malformed event on the shared channel');
      if (envelope.from === this.id) return;
      for (const listener of this.#listeners) listener({ name: envelope.name, args: envelope.args });
    });
  }

  /** Subscribes to the channel; resolves once Redis confirmed it, so nothing published after is missed. */
  static async open(options: RedisEventBusOptions): Promise<RedisEventBus> {
    const subscriber = options.redis.duplicate({ connectionName: 'comfy-vast-events' });
    // ioredis re-subscribes by itself after a reconnection; errors are the main client's to report.
    subscriber.on('error', () => undefined);
    const bus = new RedisEventBus(options.redis, subscriber, `${options.prefix ?? DEFAULT_REDIS_PREFIX}events`, options.logger.child({ component: 'event-bus' }));
    try {
      await subscriber.subscribe(bus.#channel);
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    return bus;
  }

  /** Events published by the other processes. */
  onEvent(listener: (event: SharedEvent) => void): void {
    this.#listeners.add(listener);
  }

  /**
   * Publishes an event the caller has delivered locally. While Redis is away the other processes miss it (one
   * warning per outage): their subscribers catch up from the stored records when they resubscribe with `since`.
   */
  publish(event: SharedEvent, topic?: string): void {
    const envelope: Envelope = { from: this.id, name: event.name, args: event.args };
    this.#redis.publish(topic === undefined ? this.#channel : this.#topicChannel(topic), JSON.stringify(envelope)).then(
      () => {
        if (!this.#failing) return;
        this.#failing = false;
        this.#logger.info({}, 'events reach the other processes again');
      },
      (err: unknown) => {
        if (this.#failing) return;
        this.#failing = true;
        this.#logger.warn({ err }, 'events cannot reach the other processes: Redis does not answer');
      },
    );
  }

  /**
   * Receives the events of a topic from now on (a second call is a no-op). Subscribing takes a round trip to Redis:
   * what is published before Redis confirms it is not received, so a follower reads the state it starts from from the
   * store, and progress is never the only word of anything. Resolves once Redis confirmed (never rejects).
   */
  async follow(topic: string): Promise<void> {
    const channel = this.#topicChannel(topic);
    if (this.#topics.has(channel)) return;
    this.#topics.add(channel);
    // ioredis subscribes again after a reconnection by itself; an error now is one of that reconnection.
    await this.#subscriber.subscribe(channel).catch(() => undefined);
  }

  unfollow(topic: string): void {
    const channel = this.#topicChannel(topic);
    if (!this.#topics.delete(channel)) return;
    this.#subscriber.unsubscribe(channel).catch(() => undefined);
  }

  #topicChannel(topic: string): string {
    return `${this.#channel}:${topic}`;
  }

  async close(): Promise<void> {
    this.#topics.clear();
    this.#listeners.clear();
    await this.#subscriber.quit().catch(() => this.#subscriber.disconnect());
  }
}

function parseEnvelope(text: string): Envelope | null {
  try {
    const parsed = envelopeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
