import { ComfyVastError, PostgresStore, type Logger } from '@comfy-vast/core';
import { databaseAddress } from './config.js';
import { redactCredentials } from './logger.js';

/**
 * Connects to PostgreSQL, migrates the schema and reads the records. A failure names the database by host, port and
 * name, never by the URL, which may hold a password.
 */
export async function openPostgres(url: string, logger?: Logger): Promise<PostgresStore> {
  try {
    return await PostgresStore.open({ url, logger });
  } catch (error) {
    const reason = redactCredentials(error instanceof Error ? error.message : String(error));
    throw new ComfyVastError('STORE_ERROR', `PostgreSQL at ${databaseAddress(url)} cannot be used: ${reason}`, {
      details: { database: databaseAddress(url), ...(error instanceof ComfyVastError ? error.details : {}) },
    });
  }
}
