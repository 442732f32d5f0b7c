import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { fakeInstanceSchema } from './instances.js';

const sshKeySchema = z.object({ id: z.number().int(), user_id: z.number().int(), public_key: z.string(), created_at: z.number(), deleted_at: z.null() });
export type FakeSshKey = z.infer<typeof sshKeySchema>;

/**
 * What the fake keeps across a restart: its instances, the account's keys, and the counters that make ids unique.
 * Version 2 added each instance's SSH host key, attached keys and virtual disk, all optional, so a version 1 file
 * loads as it is.
 */
export const fakeVastStateSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  lastInstanceId: z.number().int(),
  lastPort: z.number().int(),
  instances: z.array(fakeInstanceSchema),
  sshKeys: z.array(sshKeySchema),
});
export type FakeVastState = z.infer<typeof fakeVastStateSchema>;

/**
 * The fake's state in one JSON file. Saves run one after another; each writes a temp file beside the file and
 * renames it over, so a crash at any point leaves the previous state or the new one, whole. A save that fails
 * fails every later one too: the fake then answers 500 rather than run on with a state it cannot keep.
 */
export class StateFile {
  readonly #path: string;
  #chain: Promise<void> = Promise.resolve();
  /** A save not begun yet: a newer state replaces its own, so a burst of changes makes one write. */
  #queued: { state: FakeVastState; written: Promise<void> } | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  /** The saved state, or undefined when nothing was saved yet; a file that is not a state is an error. */
  async load(): Promise<FakeVastState | undefined> {
    await removeLeftovers(this.#path);
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`The simulation state in ${this.#path} is not JSON`);
    }
    const parsed = fakeVastStateSchema.safeParse(json);
    if (!parsed.success) throw new Error(`The simulation state in ${this.#path} is not valid: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  /** Saves the state (as it is now or newer); resolves once it is on disk. */
  save(state: FakeVastState): Promise<void> {
    if (this.#queued) {
      this.#queued.state = state;
      return this.#queued.written;
    }
    const queued = { state, written: Promise.resolve() };
    queued.written = this.#chain.then(() => {
      this.#queued = null;
      return writeAtomic(this.#path, JSON.stringify(queued.state));
    });
    this.#queued = queued;
    this.#chain = queued.written;
    return queued.written;
  }

  /** Resolves once every save asked so far has ended, failed ones included. */
  idle(): Promise<void> {
    return this.#chain.catch(() => undefined);
  }
}

// Not the store's temp-file pattern: the store clears its own at open, which may be while the fake is saving (its
// jobs go on in the background), so the fake clears its own leftovers when it loads.
const saving = (path: string) => `${basename(path)}.saving-`;

async function removeLeftovers(path: string): Promise<void> {
  const names = await readdir(dirname(path)).catch(() => []);
  await Promise.all(names.filter((name) => name.startsWith(saving(path))).map((name) => unlink(join(dirname(path), name)).catch(() => undefined)));
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `${saving(path)}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const file = await open(temp, 'w');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
