import { Readable } from 'node:stream';
import type pg from 'pg';
import type { ViewResult } from '../comfy/index.js';
import { ComfyVastError } from '../errors/index.js';
import { databaseError, tableName } from '../store/postgres/connection.js';
import { IMAGES_TABLE } from '../store/postgres/tables.js';
import type { PostgresStore } from '../store/index.js';
import { systemClock, type Clock } from '../util/index.js';
import { imageEtag, imageName, parseImageName, type ImageStore, type StoredImage } from './image-store.js';

/**
 * The most one image may weigh in the database: each is held in memory whole while it is saved and served, so this
 * bounds what one image costs the process (docs/deploy.md). ComfyUI's images are a few MiB at most.
 */
export const MAX_DATABASE_IMAGE_BYTES = 64 * 1024 * 1024;

export interface DatabaseImageStoreOptions {
  /** The store of the records: its connections and schema (whose migrations created the images table) are used. */
  store: PostgresStore;
  /** Dates each image as it is saved: its Last-Modified, and part of its ETag. */
  clock?: Clock;
}

/**
 * Images in the PostgreSQL database that holds the records, one row each: every process on that database serves
 * every image, with no directory to share. Meant for small installations: each image is read into memory to be
 * written and to be served, and the database grows by every image kept.
 */
export class DatabaseImageStore implements ImageStore {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DatabaseImageStoreOptions) {
    this.#pool = options.store.pool;
    this.#table = tableName(options.store.schema, IMAGES_TABLE);
    this.#clock = options.clock ?? systemClock;
  }

  async save(generationId: number, n: number, view: ViewResult, sourceName: string): Promise<string> {
    const file = imageName(generationId, n, view, sourceName);
    const bytes = await readWhole(view.stream, file);
    const { contentType } = parseImageName(file)!;
    await this.#pool
      .query(
        `INSERT INTO ${this.#table} (file, generation_id, content_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (file) DO UPDATE SET content_type = excluded.content_type, size = excluded.size, bytes = excluded.bytes, created_at = excluded.created_at`,
        [file, generationId, contentType, bytes.length, bytes, new Date(this.#clock.now())],
      )
      .catch((error: unknown) => Promise.reject(databaseError(`save image ${file} to PostgreSQL`, error)));
    return file;
  }

  async stat(file: string): Promise<StoredImage | undefined> {
    if (!parseImageName(file)) return undefined;
    const { rows } = await this.#pool
      .query<{ content_type: string; size: number; created_at: Date }>(`SELECT content_type, size, created_at FROM ${this.#table} WHERE file = $1`, [file])
      .catch((error: unknown) => Promise.reject(databaseError(`read image ${file} from PostgreSQL`, error)));
    const row = rows[0];
    if (!row) return undefined;
    const modified = row.created_at;
    return { contentType: row.content_type, size: row.size, etag: imageEtag(file, row.size, modified.getTime()), modified, open: () => Readable.from(this.#bytes(file)) };
  }

  async *#bytes(file: string): AsyncGenerator<Buffer> {
    const { rows } = await this.#pool
      .query<{ bytes: Buffer }>(`SELECT bytes FROM ${this.#table} WHERE file = $1`, [file])
      .catch((error: unknown) => Promise.reject(databaseError(`read image ${file} from PostgreSQL`, error)));
    if (!rows[0]) throw new ComfyVastError('NOT_FOUND', `Image ${file} not found`, { details: { file } });
    yield rows[0].bytes;
  }
}

/** The whole stream in memory, refused past MAX_DATABASE_IMAGE_BYTES. */
async function readWhole(stream: Readable, file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    // Leaving the loop by a throw destroys the stream, which ends the download from ComfyUI.
    if (size > MAX_DATABASE_IMAGE_BYTES) {
      throw new ComfyVastError('PAYLOAD_TOO_LARGE', `Image ${file} is larger than ${MAX_DATABASE_IMAGE_BYTES / 1024 / 1024} MiB, the most the database keeps of one image: keep images in a directory instead`, {
        details: { file, limit: MAX_DATABASE_IMAGE_BYTES },
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
