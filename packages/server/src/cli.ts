#!/usr/bin/env node
import { ComfyVast, isComfyVastError } from '@comfy-vast/core';
import { Command, Option } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveConfig } from './config.js';
import { migrateToPostgres } from './migrate.js';
import { startServer } from './start.js';
import { packageVersion } from './version.js';

const program = new Command('comfy-vast').description('Run ComfyUI generations on Vast.ai GPU servers').version(packageVersion());

program
  .command('serve')
  .description('Start the API server (flags override the environment)')
  .option('-p, --port <port>', 'port to listen on (PORT, default 5000)')
  .option('-H, --host <host>', 'address to listen on (HOST, default 127.0.0.1)')
  .option('-d, --data-dir <dir>', 'data directory (COMFY_VAST_DATA, default ./data)')
  .option('--provider <name>', 'vast or simulated (COMFY_VAST_PROVIDER)')
  .option('--vast-api-url <url>', 'Vast.ai API base URL (VAST_API_URL)')
  .option('--log-level <level>', 'log level (COMFY_VAST_LOG_LEVEL, default info)')
  .option('-c, --config <file>', 'JSON configuration file (COMFY_VAST_CONFIG)')
  .option('--database-url <url>', 'records in PostgreSQL, with --redis-url (COMFY_VAST_DATABASE_URL; the environment keeps a password out of ps)')
  .option('--redis-url <url>', 'Redis, with --database-url (COMFY_VAST_REDIS_URL)')
  .option('--images-dir <dir>', 'where generated images are kept (COMFY_VAST_IMAGES_DIR, default <data dir>/images)')
  .option('--images <where>', 'directory, or database to keep images in PostgreSQL (COMFY_VAST_IMAGES, default directory)')
  .action(async (flags: Record<string, string | undefined>) => {
    const config = resolveConfig(process.env, {
      port: flags.port,
      host: flags.host,
      dataDir: flags.dataDir,
      provider: flags.provider,
      vastApiUrl: flags.vastApiUrl,
      logLevel: flags.logLevel,
      config: flags.config,
      databaseUrl: flags.databaseUrl,
      redisUrl: flags.redisUrl,
      imagesDir: flags.imagesDir,
      images: flags.images,
    });
    const starting = startServer(config);
    // Listening before the handlers exist would let a signal right after start kill the process without a flush.
    const stop = async (signal: string) => {
      const server = await starting.catch(() => process.exit(1));
      server.app.fastify.log.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    await starting;
  });

const users = program.command('users').description('Manage users (run where the data directory is)');
users
  .command('add <name>')
  .description('Create a user and print its first token')
  .option('-d, --data-dir <dir>', 'data directory (COMFY_VAST_DATA, default ./data)')
  .action(async (name: string, flags: { dataDir?: string }) => {
    const config = resolveConfig(process.env, { dataDir: flags.dataDir, logLevel: 'silent' });
    // The library opened here would run the scheduler beside the server's on the same records: the server's API creates users.
    if (config.databaseUrl) {
      throw new Error('the records are in PostgreSQL (COMFY_VAST_DATABASE_URL): create users through the API, POST /api/users with the admin token (see docs/deploy.md).');
    }
    const dataDir = resolve(config.dataDir);
    // A mistyped or relative path would otherwise create a second, empty installation beside the real one.
    if (!(await stat(dataDir).then((s) => s.isDirectory(), () => false))) {
      throw new Error(`there is no data directory at ${dataDir}. Start the server once (npm start) to create it, or name it with --data-dir or COMFY_VAST_DATA.`);
    }
    const comfyVast = await ComfyVast.open({ dataDir });
    try {
      const { user, token } = await comfyVast.users.createUser(name);
      process.stdout.write(`Created user ${user.username} (id ${user.id}). Token, shown once:\n${token.token}\n`);
    } finally {
      await comfyVast.close();
    }
  });

program
  .command('migrate')
  .description('Copy an embedded installation (a data directory) into PostgreSQL; the server must be stopped')
  .requiredOption('--from <dir>', 'the data directory the server ran with')
  .option('--to <url>', 'postgres://user:password@host:port/database (COMFY_VAST_DATABASE_URL; the environment keeps a password out of ps)')
  .addOption(new Option('--images <where>', 'directory leaves the images where they are; database copies them into PostgreSQL').choices(['directory', 'database']).default('directory'))
  .action(async (flags: { from: string; to?: string; images: 'directory' | 'database' }) => {
    const to = flags.to ?? process.env.COMFY_VAST_DATABASE_URL;
    if (!to) throw new Error('name the database with --to or COMFY_VAST_DATABASE_URL (postgres://user:password@host:port/database).');
    await migrateToPostgres({ from: flags.from, to, images: flags.images, print: (line) => process.stdout.write(`${line}\n`) });
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`comfy-vast: ${isComfyVastError(error) ? error.message : error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
