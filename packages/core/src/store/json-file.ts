import type { Adapter } from 'lowdb';
import type { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';
import { corruptFileError, fileError } from './errors.js';
import { errnoCode, type StoreFs } from './fs.js';

/**
 * lowdb's adapter for one JSON file: reads are checked against a zod schema (a file that fails is reported
 * as corrupt, naming it), writes go through `writeFileAtomic` so a crash never leaves a half-written file.
 */
export class AtomicJsonFile<T> implements Adapter<T> {
  /** The size of the file as last read (0 when missing), for a log to weigh its segments against its snapshot. */
  bytesRead = 0;

  constructor(
    private readonly fs: StoreFs,
    readonly path: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await this.fs.readFile(this.path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw fileError('read', this.path, error);
    }
    this.bytesRead = Buffer.byteLength(text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw corruptFileError(this.path, `it is not valid JSON (${(error as Error).message})`, {}, error);
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) throw corruptFileError(this.path, `it does not have the expected shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return parsed.data;
  }

  async write(data: T): Promise<void> {
    try {
      await writeFileAtomic(this.fs, this.path, [JSON.stringify(data, null, 2)]);
    } catch (error) {
      throw fileError('write', this.path, error);
    }
  }
}
