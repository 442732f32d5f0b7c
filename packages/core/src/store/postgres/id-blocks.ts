import type pg from 'pg';
import type { Logger } from '../../util/index.js';
import { closedError } from '../errors.js';
import type { IdSource } from '../memory-collection.js';
import { databaseError, tableName } from './connection.js';
import { COLLECTIONS_TABLE } from './tables.js';

export interface IdBlocksOptions {
  pool: pg.Pool;
  schema: string;
  name: string;
  /** Above every id the table held when loaded: ids below it may have been handed out before blocks existed. */
  floor: number;
  /** Ids per block, at first and at least. */
  size: number;
  logger: Logger;
}

interface Block {
  start: number;
  end: number;
}

/**
 * A collection's ids when several processes insert into it: each reserves blocks of ids from `_collections.next_id`
 * in one atomic statement and hands them out in memory, in increasing order. The next block is reserved in the
 * background once a quarter of the current one is left, so an insert waits for the database only when a burst
 * outruns that; then the blocks double (up to 64 times the size) so that bursts keep being written in large
 * batches. Closing gives the unused end of the last block back when no process reserved after it.
 */
export class IdBlocks implements IdSource {
  readonly #o: IdBlocksOptions;
  readonly #reserveStatement: string;
  /** The block ids are taken from: `start` is the next id. */
  #current: Block = { start: 0, end: 0 };
  #ahead: Block | null = null;
  #reserving: Promise<void> | null = null;
  #size: number;
  #closed = false;

  constructor(options: IdBlocksOptions) {
    this.#o = options;
    this.#size = options.size;
    const ids = tableName(options.schema, COLLECTIONS_TABLE);
    this.#reserveStatement = `INSERT INTO ${ids} (name, next_id) VALUES ($1, $2::bigint + $3::bigint)
      ON CONFLICT (name) DO UPDATE SET next_id = greatest(${ids}.next_id, $2::bigint) + $3::bigint
      RETURNING next_id - $3::bigint AS start`;
  }

  take(): number | undefined {
    if (this.#closed) return undefined;
    if (this.#current.start >= this.#current.end && this.#ahead) {
      this.#current = this.#ahead;
      this.#ahead = null;
    }
    if (this.#current.start >= this.#current.end) return undefined;
    const id = this.#current.start++;
    if (!this.#ahead && this.#current.end - this.#current.start <= this.#size / 4) this.reserveAhead();
    return id;
  }

  /** Reserves the next block in the background (at open, so that the first insert finds ids at hand). */
  reserveAhead(): void {
    if (this.#reserving || this.#closed) return;
    this.#reserve().catch((error: unknown) => this.#o.logger.warn({ err: error, collection: this.#o.name }, 'could not reserve the next block of ids; the next insert tries again'));
  }

  async ready(): Promise<void> {
    if (this.#closed) throw closedError();
    await this.#reserving?.catch(() => undefined);
    if (this.#ahead || this.#current.start < this.#current.end) return;
    // The first block is not outrun: it was never there.
    if (this.#current.end > 0) this.#size = Math.min(this.#o.size * 64, this.#size * 2);
    await this.#reserve();
  }

  /** Waits for a reservation under way, then gives back the ids reserved and never handed out, when they are the last. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#reserving?.catch(() => undefined);
    const last = this.#ahead ?? this.#current;
    if (last.end === 0) return;
    // The current block's rest goes back too when the block ahead follows it directly.
    const from = this.#ahead && this.#ahead.start !== this.#current.end ? this.#ahead.start : this.#current.start;
    if (from >= last.end) return;
    await this.#o.pool
      .query(`UPDATE ${tableName(this.#o.schema, COLLECTIONS_TABLE)} SET next_id = $2 WHERE name = $1 AND next_id = $3`, [this.#o.name, from, last.end])
      .catch((error: unknown) => this.#o.logger.warn({ err: error, collection: this.#o.name }, 'could not give back the unused ids (they stay unused)'));
  }

  #reserve(): Promise<void> {
    this.#reserving ??= (async () => {
      try {
        const size = this.#size;
        const { rows } = await this.#o.pool.query<{ start: number }>(this.#reserveStatement, [this.#o.name, this.#o.floor, size]);
        const start = rows[0]!.start;
        this.#ahead = { start, end: start + size };
      } catch (error) {
        throw databaseError(`reserve ids for collection ${this.#o.name} in PostgreSQL`, error);
      } finally {
        this.#reserving = null;
      }
    })();
    return this.#reserving;
  }
}
