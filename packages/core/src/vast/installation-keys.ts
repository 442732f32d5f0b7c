import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';

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
