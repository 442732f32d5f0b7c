import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ComfyVast, ComfyVastError, openRedis, redisAddress, type PostgresStore, type Redis } from '@comfy-vast/core';
import type { FakeVast } from '@comfy-vast/testkit';
import type pino from 'pino';
import { buildApp, type App } from './app.js';
import { databaseAddress, limitRules, type ServerConfig } from './config.js';
import { createLogger } from './logger.js';
import { openPostgres } from './open-postgres.js';
import { packageVersion } from './version.js';

export interface RunningServer {
  /** The in-process fake Vast.ai behind the simulated provider; null with the real one. */
  simulation: FakeVast | null;
  /** `http://host:port`, without `/api`. */
  url: string;
  app: App;
  comfyVast: ComfyVast;
  config: ServerConfig;
  /** The admin token when this start generated it (first start without COMFY_VAST_ADMIN_TOKEN). */
  generatedAdminToken: string | null;
  /** Stops accepting, lets in-flight requests finish, stops the services and flushes the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: pino.Logger;
  /** Where the start-up banner goes (stdout by default); never a log line. */
  print?: (line: string) => void;
}

/** Opens the records (the data directory, or PostgreSQL with Redis), builds the API and listens. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });

  // The simulated instances live in the data directory, so they outlast our restarts as rented ones do.
  // The fakes are loaded only for the simulated provider: a production server never has them in memory.
  const simulation = config.provider === 'simulated' ? await startSimulation(config, dataDir) : null;
  // Simulated servers change state within seconds, so the reconciler looks more often than against Vast.
  const vast = simulation
    ? { apiKey: simulation.apiKey, baseUrl: simulation.url, pollIntervalMs: 2_000, simulated: true }
    : { apiKey: config.vastApiKey!, baseUrl: config.vastApiUrl, pollIntervalMs: config.vastPollSeconds * 1000 };
  let comfyVast: ComfyVast;
  let postgres: PostgresStore | undefined;
  let redis: Redis | undefined;
  try {
    postgres = config.databaseUrl ? await openPostgres(config.databaseUrl, logger) : undefined;
    redis = config.redisUrl ? await openRedis({ url: config.redisUrl, logger }) : undefined;
    const credentials = { huggingface: config.huggingfaceToken, civitai: config.civitaiToken };
    const imagesDir = config.imagesDir ? resolve(config.imagesDir) : undefined;
    comfyVast = await ComfyVast.open({ dataDir, store: postgres, redis, imagesDir, images: config.images, logger, limits: limitRules(config), vast, models: { credentials } });
  } catch (error) {
    redis?.disconnect();
    await postgres?.close();
    await simulation?.close();
    throw error;
  }
  const { generatedAdminToken } = await bootstrapAdmin(comfyVast, config, dataDir);
  const version = packageVersion();
  const app = await buildApp({ comfyVast, logger, provider: config.provider, version });
  try {
    await app.fastify.listen({ port: config.port, host: config.host });
  } catch (error) {
    await comfyVast.close();
    await closeRedis(redis);
    await simulation?.close();
    throw error;
  }
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  print(`comfy-vast ${version} listening on ${url}/api (${whereThingsAre(config, dataDir, postgres)})`);
  if (simulation) {
    const howToRent = config.vastApiKey
      ? 'VAST_API_KEY is set but the provider is "simulated": set COMFY_VAST_PROVIDER=vast (or drop it) to rent real servers.'
      : 'Set VAST_API_KEY to rent real servers.';
    print(`GPU servers are SIMULATED: nothing is rented and nothing is billed. ${howToRent}`);
  }
  if (generatedAdminToken) {
    print(`Admin token (shown once, also saved to ${join(dataDir, 'admin-token')} with mode 0600):`);
    print(`  ${generatedAdminToken}`);
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.fastify.close();
      // The facade closes its store, PostgreSQL's connections included, once everything is written.
      await comfyVast.close();
      await closeRedis(redis);
      await simulation?.close();
    })());
  return { url, app, comfyVast, config, generatedAdminToken, simulation, close };
}

/** Ends the connection politely when Redis answers, at once when it does not. */
async function closeRedis(redis: Redis | undefined): Promise<void> {
  await redis?.quit().catch(() => redis.disconnect());
}

/** The banner's account of where the records and the local files are. */
function whereThingsAre(config: ServerConfig, dataDir: string, postgres: PostgresStore | undefined): string {
  const images = config.images === 'database' ? ', images in PostgreSQL' : config.imagesDir ? `, images in ${resolve(config.imagesDir)}` : '';
  if (!postgres) return `data in ${dataDir}${images}`;
  return `records in PostgreSQL at ${databaseAddress(config.databaseUrl!)} (schema ${postgres.schema}), Redis at ${redisAddress(config.redisUrl!)}, local files in ${dataDir}${images}`;
}

async function startSimulation(config: ServerConfig, dataDir: string): Promise<FakeVast> {
  const testkit = await import('@comfy-vast/testkit').catch((error: unknown) => {
    // Only its absence is worth a hint; any other failure to load it is a defect to show as it is.
    const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'@comfy-vast/testkit'");
    if (!missing) throw error;
    throw new ComfyVastError('NOT_SUPPORTED', 'The simulated provider needs the package @comfy-vast/testkit: install it, or set VAST_API_KEY to rent real servers', { cause: error });
  });
  return testkit.startFakeVast({ speed: config.simulationSpeed, stateFile: join(dataDir, 'simulation.json') });
}

async function bootstrapAdmin(comfyVast: ComfyVast, config: ServerConfig, dataDir: string): Promise<{ generatedAdminToken: string | null }> {
  const { generatedToken } = await comfyVast.users.ensureAdmin(config.adminToken);
  if (generatedToken) await writeFile(join(dataDir, 'admin-token'), `${generatedToken}\n`, { mode: 0o600 });
  return { generatedAdminToken: generatedToken };
}
