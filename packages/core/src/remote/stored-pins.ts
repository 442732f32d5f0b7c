import type { Store } from '../store/store.js';
import type { HostKeyPins } from './ssh-runner.js';

const KEY = 'sshHostKeys';

/** Host key fingerprints pinned on first use, kept in the store so that a restart still refuses a changed key. */
export class StoredHostKeyPins implements HostKeyPins {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get(server: string): string | undefined {
    return this.#all()[server];
  }

  set(server: string, fingerprint: string): Promise<void> {
    return this.#store.setValue(KEY, { ...this.#all(), [server]: fingerprint });
  }

  /** Forgets a server's key, once the server is gone for good. */
  async forget(server: string): Promise<void> {
    const { [server]: forgotten, ...rest } = this.#all();
    if (forgotten !== undefined) await this.#store.setValue(KEY, rest);
  }

  #all(): Record<string, string> {
    return this.#store.getValue<Record<string, string>>(KEY) ?? {};
  }
}
