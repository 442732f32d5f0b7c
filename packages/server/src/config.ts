import { readFileSync } from 'node:fs';
import { ComfyVastError, parseOrThrow, WINDOW_MS, type LimitsConfig, type RateLimitRule } from '@comfy-vast/core';
import { z } from 'zod';

const WindowName = z.enum(['second', 'minute', 'hour', 'day']);
/** `{ "api": { "minute": 1000, "hour": 10000 }, "generations": { "minute": 10 } }` */
const LimitsOverride = z.partialRecord(z.enum(['api', 'generations', 'downloadBytes']), z.partialRecord(WindowName, z.number().int().positive()));

/** A PostgreSQL URL; the messages never repeat it, since it may hold a password. */
export const DatabaseUrl = z.string().refine(hasProtocol('postgres:', 'postgresql:'), 'must be postgres://user:password@host:port/database');

export const ServerConfig = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(5000),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./data'),
  provider: z.enum(['vast', 'simulated']),
  vastApiKey: z.string().min(1).optional(),
  vastApiUrl: z.url().default('https://console.vast.ai'),
  adminToken: z.string().min(32, 'must be at least 32 characters').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  limits: LimitsOverride.optional(),
  /** How often the reconciler asks Vast.ai for every instance, in seconds (Vast's list limit is one call a second). */
  vastPollSeconds: z.coerce.number().min(1).default(30),
  /** Sent with model downloads from huggingface.co only, for gated models. */
  huggingfaceToken: z.string().min(1).optional(),
  /** Sent with model downloads from civitai.com only. */
  civitaiToken: z.string().min(1).optional(),
  /** How much faster than Vast.ai simulated servers boot and stop (1 is real time). */
  simulationSpeed: z.coerce.number().positive().default(10),
  /** Records in PostgreSQL instead of the data directory: `postgres://user:password@host:port/database`. Needs `redisUrl`. */
  databaseUrl: DatabaseUrl.optional(),
  /** What the processes share, in Redis: `redis://[user:password@]host:port[/db]`. Needs `databaseUrl`. */
  redisUrl: z.string().refine(hasProtocol('redis:', 'rediss:'), 'must be redis://[user:password@]host:port[/db] or rediss://...').optional(),
  /** Where generated images are kept (default `<dataDir>/images`): a directory several installations can mount. */
  imagesDir: z.string().min(1).optional(),
  /** Images as files in a directory (`imagesDir`), or in the PostgreSQL database of `databaseUrl` (small installations). */
  images: z.enum(['directory', 'database']).default('directory'),
});
export type ServerConfig = z.infer<typeof ServerConfig>;

/** Every environment variable the server reads, with the config key it sets. Documented in the README. */
export const ENV_KEYS = {
  PORT: 'port',
  HOST: 'host',
  COMFY_VAST_DATA: 'dataDir',
  COMFY_VAST_PROVIDER: 'provider',
  VAST_API_KEY: 'vastApiKey',
  VAST_API_URL: 'vastApiUrl',
  COMFY_VAST_ADMIN_TOKEN: 'adminToken',
  COMFY_VAST_LOG_LEVEL: 'logLevel',
  COMFY_VAST_LIMITS: 'limits',
  COMFY_VAST_SIMULATION_SPEED: 'simulationSpeed',
  COMFY_VAST_POLL_SECONDS: 'vastPollSeconds',
  HF_TOKEN: 'huggingfaceToken',
  CIVITAI_TOKEN: 'civitaiToken',
  COMFY_VAST_DATABASE_URL: 'databaseUrl',
  COMFY_VAST_REDIS_URL: 'redisUrl',
  COMFY_VAST_IMAGES_DIR: 'imagesDir',
  COMFY_VAST_IMAGES: 'images',
} as const satisfies Record<string, keyof ServerConfig>;

/**
 * The configuration from, in rising precedence: a JSON file (`COMFY_VAST_CONFIG` or `--config`), the
 * environment, and command-line flags. The provider defaults to `vast` when a key is set, else `simulated`.
 */
export function resolveConfig(env: NodeJS.ProcessEnv, flags: Partial<Record<keyof ServerConfig, unknown>> & { config?: string } = {}): ServerConfig {
  const file = flags.config ?? env.COMFY_VAST_CONFIG;
  const merged: Record<string, unknown> = file ? readConfigFile(file) : {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[key] = key === 'limits' ? parseJson(value, name) : value;
  }
  for (const [key, value] of Object.entries(flags)) if (value !== undefined && key !== 'config') merged[key] = value;
  merged.provider ??= merged.vastApiKey ? 'vast' : 'simulated';
  const config = parseOrThrow(ServerConfig, merged, 'configuration');
  if (config.provider === 'vast' && !config.vastApiKey) {
    throw new ComfyVastError('VALIDATION_ERROR', 'The vast provider needs VAST_API_KEY (or use COMFY_VAST_PROVIDER=simulated)', { details: { field: 'vastApiKey' } });
  }
  // PostgreSQL without Redis would leave the rate limits and events to each process; Redis alone has no records to share.
  if ((config.databaseUrl === undefined) !== (config.redisUrl === undefined)) {
    const [given, missing] = config.databaseUrl ? ['COMFY_VAST_DATABASE_URL', 'COMFY_VAST_REDIS_URL'] : ['COMFY_VAST_REDIS_URL', 'COMFY_VAST_DATABASE_URL'];
    throw new ComfyVastError('VALIDATION_ERROR', `${given} is set but ${missing} is not: PostgreSQL and Redis are used together. Set both (see docs/deploy.md), or neither for the embedded store.`, {
      details: { field: config.databaseUrl ? 'redisUrl' : 'databaseUrl' },
    });
  }
  checkImages(config);
  return config;
}

/** Images in the database need the records there; a directory for them would be ignored, so it is refused. */
function checkImages(config: ServerConfig): void {
  if (config.images !== 'database') return;
  if (!config.databaseUrl) {
    throw new ComfyVastError('VALIDATION_ERROR', 'COMFY_VAST_IMAGES=database keeps images in PostgreSQL, but COMFY_VAST_DATABASE_URL is not set: set it (see docs/deploy.md), or keep images in a directory.', {
      details: { field: 'images' },
    });
  }
  if (config.imagesDir) {
    throw new ComfyVastError('VALIDATION_ERROR', 'COMFY_VAST_IMAGES=database keeps images in PostgreSQL, so COMFY_VAST_IMAGES_DIR has no use: set one or the other.', { details: { field: 'imagesDir' } });
  }
}

/** Where a PostgreSQL URL points, `host:port/database`, for the banner, messages and logs: never its user or password. */
export function databaseAddress(url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const database = decodeURIComponent(parsed.pathname.slice(1));
  return `${host}:${parsed.port || '5432'}${database ? `/${database}` : ''}`;
}

function hasProtocol(...protocols: string[]): (url: string) => boolean {
  return (url) => URL.canParse(url) && protocols.includes(new URL(url).protocol);
}

/** The limiter rules a configuration asks for, over the contract's defaults. */
export function limitRules(config: ServerConfig): Partial<LimitsConfig> {
  const out: Partial<LimitsConfig> = {};
  for (const [name, windows] of Object.entries(config.limits ?? {}) as Array<[keyof LimitsConfig, Record<string, number>]>) {
    out[name] = Object.entries(windows).map(([window, limit]): RateLimitRule => ({ name: window, limit, windowMs: WINDOW_MS[window as keyof typeof WINDOW_MS] }));
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ComfyVastError('VALIDATION_ERROR', `Cannot read the configuration file ${path}: ${(error as Error).message}`, { details: { file: path } });
  }
  const value = parseJson(text, path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ComfyVastError('VALIDATION_ERROR', `The configuration file ${path} must hold a JSON object`, { details: { file: path } });
  }
  return value as Record<string, unknown>;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ComfyVastError('VALIDATION_ERROR', `${where} is not valid JSON: ${(error as Error).message}`, { details: { field: where } });
  }
}
