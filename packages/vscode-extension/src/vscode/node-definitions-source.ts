import { CORE_OBJECT_INFO, parseObjectInfo, type ObjectInfo } from '../workflow/core-adapter.js';
import type { Connection } from './connection.js';
import type { ServerSelection } from './server-selection.js';

/**
 * The node definitions workflows are read with: the selected server's object_info when signed in and it runs,
 * else core's bundled one (also on any failure, so the editor always has definitions). Server answers are kept
 * per API address and server id: object_info is large and slow on servers with many custom nodes.
 */
export class NodeDefinitionSource {
  readonly #asked = new Map<string, Promise<ObjectInfo>>();
  #latest: ObjectInfo = CORE_OBJECT_INFO;

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
  ) {}

  /** The definitions for now, asking the server when they are not known yet. */
  async current(): Promise<ObjectInfo> {
    this.#latest = await this.#lookUp();
    return this.#latest;
  }

  /** The definitions `current` last answered, without asking anyone (edits are checked against what is shown). */
  known(): ObjectInfo {
    return this.#latest;
  }

  async #lookUp(): Promise<ObjectInfo> {
    const server = this.selection.selected;
    if (server?.status !== 'running' || !(await this.connection.isSignedIn())) return CORE_OBJECT_INFO;
    const key = `${this.connection.apiUrl}\n${server.id}`;
    let asked = this.#asked.get(key);
    if (!asked) {
      asked = this.connection
        .api()
        .then((api) => api.objectInfo(server.id))
        .then(parseObjectInfo);
      this.#asked.set(key, asked);
      // A failed answer is not kept: the next read asks again.
      asked.catch(() => this.#asked.delete(key));
    }
    return asked.catch(() => CORE_OBJECT_INFO);
  }
}
