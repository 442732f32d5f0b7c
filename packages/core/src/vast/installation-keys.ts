import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { z } from 'zod';
import type { Store } from '../store/store.js';

export interface InstallationKeyPair {
  /** OpenSSH public key line, registered with Vast and attached to each instance. */
  publicKey: string;
  /** Where the private key lives (mode 0600); the key itself is read only by the SSH runner. */
  privateKeyPath: string;
}

/** ssh2's generator writes a private key that its own parser refuses about once in 256 tries: draw again until it reads. */
const MAX_DRAWS = 16;

const PRIVATE_FILE = 'id_ed25519';
const PUBLIC_FILE = 'id_ed25519.pub';

/**
 * The one ed25519 key pair of an installation, kept in its data directory: created on first use, read back
 * afterwards so every server of the installation accepts the same key.
 */
export class InstallationKeys {
  readonly #dir: string;

  constructor(directory: string) {
    this.#dir = directory;
  }

  get privateKeyPath(): string {
    return join(this.#dir, PRIVATE_FILE);
  }

  async load(): Promise<InstallationKeyPair> {
    const existing = await this.#read();
    if (existing) return { publicKey: existing, privateKeyPath: this.privateKeyPath };
    const pair = readableKeyPair();
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFile(this.privateKeyPath, pair.private, { mode: 0o600, flag: 'wx' });
    // writeFile's mode is masked by the umask; the private key must be 0600 whatever the umask.
    await chmod(this.privateKeyPath, 0o600);
    const publicKey = pair.public.trim();
    await writeFile(join(this.#dir, PUBLIC_FILE), `${publicKey}\n`, { mode: 0o644 });
    return { publicKey, privateKeyPath: this.privateKeyPath };
  }

  /** The private key itself, for the SSH runner only; after `load`, which creates it. */
  privateKey(): Promise<string> {
    return readFile(this.privateKeyPath, 'utf8');
  }

  /** The pair the directory holds, or null when it holds none (nothing is created). */
  async existing(): Promise<StoredKeyPair | null> {
    const publicKey = await this.#read();
    return publicKey === null ? null : { publicKey, privateKey: await this.privateKey() };
  }

  async #read(): Promise<string | null> {
    try {
      return (await readFile(join(this.#dir, PUBLIC_FILE), 'utf8')).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}

function readableKeyPair(): { private: string; public: string } {
  for (let draw = 1; ; draw++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'comfy-vast' });
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) || draw >= MAX_DRAWS) return pair;
  }
}

/** The pair itself, as kept in a store's named value. */
const storedKeyPairSchema = z.object({ publicKey: z.string().min(1), privateKey: z.string().min(1) });
export type StoredKeyPair = z.infer<typeof storedKeyPairSchema>;

/** The named value that holds the installation's pair in a store shared by several processes. */
export const INSTALLATION_KEY_VALUE = 'installationSshKey';

/** How long a process waits for another one's write of the pair to reach it (change notices take milliseconds). */
const DEFAULT_SETTLE_MS = 1_000;

export interface SharedInstallationKeyOptions {
  store: Store;
  /** The key of the data directory this process used before the store was shared, moved into it when none is there. */
  legacy?: InstallationKeys;
  /** How long to wait for another process's write to arrive (real time: it travels over the network, whatever a test's clock says). */
  settleMs?: number;
  /**
   * Claims the one write of the pair for this process, atomically among all of them (with Redis: `SET NX` with an
   * expiry, so that a claimer that died frees it): true when this process is to write it. Without it the processes
   * fall back on waiting `settleMs` for each other's writes.
   */
  claim?: () => Promise<boolean>;
}

/** How often a process that lost the claim looks for the winner's pair (or claims again, should the winner have died). */
const CLAIM_POLL_MS = 100;

/**
 * The installation's one pair when several processes share the store (PostgreSQL): kept there as a named value, so
 * that every process reaches the instances any of them created. The first start moves the data directory's pair in
 * (its instances stay reachable), else creates one. A process that has to create one first waits `settleMs` for a
 * pair moved in by another. With `claim`, one process writes the pair and the others wait until it reaches them.
 * Without it (named values are last-writer-wins), each process that writes waits for the others' writes to reach it,
 * then takes what the store holds (the last written), the same for all once the writes have travelled.
 */
export async function sharedInstallationKey(options: SharedInstallationKeyOptions): Promise<StoredKeyPair> {
  const { store, claim } = options;
  const settle = () => delay(options.settleMs ?? DEFAULT_SETTLE_MS);
  const held = () => {
    const parsed = storedKeyPairSchema.safeParse(store.getValue(INSTALLATION_KEY_VALUE));
    return parsed.success ? parsed.data : null;
  };
  const found = held();
  if (found) return found;
  let own = (await options.legacy?.existing()) ?? null;
  if (!own) {
    await settle();
    const moved = held();
    if (moved) return moved;
  }
  if (claim) {
    while (!(await claim())) {
      await delay(CLAIM_POLL_MS);
      const written = held();
      if (written) return written;
    }
    // A winner that wrote and then died left its pair behind: that one stays.
    const written = held();
    if (written) return written;
  }
  if (!own) {
    const pair = readableKeyPair();
    own = { publicKey: pair.public.trim(), privateKey: pair.private };
  }
  await store.setValue(INSTALLATION_KEY_VALUE, own);
  if (claim) return own;
  await settle();
  return held() ?? own;
}
