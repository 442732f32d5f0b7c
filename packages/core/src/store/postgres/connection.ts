import pg from 'pg';
import { ComfyVastError } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';

/** A schema name used as it is, unquoted in messages: lower-case letters, digits and `_`, as PostgreSQL folds them. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ComfyVastError('VALIDATION_ERROR', `PostgreSQL schema "${schema}" is not allowed: use lower-case letters, digits and "_" (at most 63)`, { details: { schema } });
  }
}

/** `"schema"."name"`: every table name reaches SQL through this. */
export function tableName(schema: string, name: string): string {
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
}

// Ids are bigint columns; records' ids are JS numbers (never past 2^53), so they are read as numbers.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

export function openPool(url: string, size: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, types, application_name: 'comfy-vast' });
  // An idle connection that the server drops (restart, failover) must not end the process: the next query reconnects.
  pool.on('error', (err) => logger.warn({ err: { message: err.message, code: errorCode(err) } }, 'PostgreSQL dropped an idle connection'));
  // A connection still closing after it left the pool (pool.end() does not wait for that) may yet hear the server
  // go away; errors of connections in use reach their queries, so this listener only keeps the process alive.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'PostgreSQL refused the connection (is it running, on the host and port of the database URL?)',
  ENOTFOUND: 'the database host name does not resolve',
  EAI_AGAIN: 'the database host name does not resolve',
  ETIMEDOUT: 'the connection to PostgreSQL timed out',
  ECONNRESET: 'the connection to PostgreSQL was reset',
  EHOSTUNREACH: 'the database host is unreachable',
};

/** PostgreSQL's SQLSTATE (`23505`) or node's errno code (`ECONNREFUSED`), when the error has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A failed database operation, said in words an operator can act on. The message carries PostgreSQL's own words
 * (which name tables and constraints, never the URL or its password) or the network failure; the raw error stays
 * in the cause, which only the server's log shows.
 */
export function databaseError(action: string, cause: unknown): ComfyVastError {
  if (cause instanceof ComfyVastError) return cause;
  const code = errorCode(cause);
  const message = cause instanceof Error ? cause.message : String(cause);
  const sqlState = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const reason = sqlState ? `${message} (SQLSTATE ${sqlState})` : ((code && NETWORK_REASONS[code]) ?? (code ? `error ${code}` : message));
  return new ComfyVastError('STORE_ERROR', `Could not ${action}: ${reason}`, {
    details: { database: 'postgresql', ...(sqlState ? { sqlState } : code ? { errno: code } : {}) },
    cause,
  });
}

/**
 * Runs `fn` on a connection of its own. After a failure the connection is closed instead of going back to the
 * pool: a session in doubt (an open transaction, a lock it may still hold) ends with it.
 */
export async function withClient<R>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  try {
    const result = await fn(client);
    client.release();
    return result;
  } catch (error) {
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** `fn` between `begin` and COMMIT; anything it throws rolls the transaction back. */
export async function inTransaction<R>(client: pg.PoolClient, begin: string, fn: () => Promise<R>): Promise<R> {
  await client.query(begin);
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
