import { Redis } from 'ioredis';
import { ComfyVastError } from '../errors/index.js';
import type { Logger } from '../util/index.js';

export interface OpenRedisOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...` for TLS. */
  url: string;
  logger: Logger;
  /** The connection's name in Redis's `CLIENT LIST`, so an operator can tell the replicas' connections apart. */
  name?: string;
}

/** Before every key and channel comfy-vast writes in Redis, so that several installations can share one. */
export const DEFAULT_REDIS_PREFIX = 'comfy-vast:';

/** A command waits at most this many reconnections before it fails: a limit check must not hang while Redis is away. */
const MAX_RETRIES_PER_REQUEST = 1;
const CONNECT_TIMEOUT_MS = 5000;
/** A Redis that holds the connection but stops answering fails each command after this, instead of hanging a request. */
const COMMAND_TIMEOUT_MS = 2000;
/** Reconnection delays double from 50 ms up to this ceiling, and go on for as long as the process runs. */
const MAX_RECONNECT_DELAY_MS = 2000;

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (is Redis running, on the host and port of the URL?)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
};

/** Where a Redis URL points, `host:port` (or the socket path), for messages and logs: never its user or password. */
export function redisAddress(url: string): string {
  if (url.startsWith('/')) return url.split('?')[0]!;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ComfyVastError('VALIDATION_ERROR', 'The Redis URL is not valid: expected redis://[user:password@]host:port[/db]');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ComfyVastError('VALIDATION_ERROR', `The Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}`;
}

/**
 * A connected ioredis client, checked with PING before it is handed out, so a wrong URL or a Redis that is down
 * stops the start with SERVICE_UNAVAILABLE naming host:port. Once open, the client reconnects on its own for as
 * long as it lives (a Redis restart must not need an API restart), while each command fails fast when Redis is
 * away. The caller owns the client and closes it with `quit()`.
 */
export async function openRedis(options: OpenRedisOptions): Promise<Redis> {
  const address = redisAddress(options.url);
  const logger = options.logger.child({ redis: address });
  const redis = new Redis(options.url, {
    lazyConnect: true,
    connectionName: options.name ?? 'comfy-vast',
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), MAX_RECONNECT_DELAY_MS),
  });
  let lastError: Error | undefined;
  let opened = false;
  let down = false;
  // Without a listener ioredis prints every failed reconnection to stderr; one warning per outage is enough.
  redis.on('error', (err: Error) => {
    lastError = err;
    if (!opened || down) return;
    down = true;
    logger.warn({ err: { message: redacted(err.message, options.url), code: errorCode(err) } }, 'Redis connection lost; reconnecting');
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? error;
    const code = errorCode(cause);
    const reason = (code && NETWORK_REASONS[code]) ?? redacted(cause instanceof Error ? cause.message : String(cause), options.url);
    throw new ComfyVastError('SERVICE_UNAVAILABLE', `Redis at ${address} cannot be reached: ${reason}`, {
      details: { redis: address, ...(code ? { errno: code } : {}) },
    });
  }
  opened = true;
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({}, 'Redis connection back');
  });
  return redis;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Redis's own words never hold the password, but a message is scrubbed of it anyway before it is shown or logged. */
function redacted(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return message;
  }
  return password ? message.split(password).join('***') : message;
}
