/** A node or link id as saved in a UI workflow: `5` and `"5"` name the same node. */
export type WorkflowId = string | number;

// Ids past this are rare enough to go to the map; an array that large would be mostly holes.
const MAX_SLOT = 1 << 24;

/** The array slot of an id that is a small non-negative integer (`5` or `"5"`, not `"05"`), else -1. */
function slotOf(id: WorkflowId): number {
  if (typeof id === 'number') return Number.isInteger(id) && id >= 0 && id < MAX_SLOT ? id : -1;
  const length = id.length;
  if (length === 0 || length > 8 || (length > 1 && id.charCodeAt(0) === 48)) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value < MAX_SLOT ? value : -1;
}

/**
 * Items by workflow id, with the semantics of a map keyed by `String(id)`. Saved workflows number their nodes
 * and links from 1, so those ids index an array: no string per id and no hash table, which keeps conversion of
 * a 10,000-node workflow linear. Any other id goes to a map.
 */
export class IdIndex<T> {
  readonly #slots: (T | undefined)[];
  #named: Map<string, T> | undefined;

  /** `expected`: how many items will be set, numbered from 1 in the usual case; sizes the array once. */
  constructor(expected = 0) {
    this.#slots = new Array<T | undefined>(expected + 1);
  }

  get(id: WorkflowId): T | undefined {
    const slot = slotOf(id);
    return slot >= 0 ? this.#slots[slot] : this.#named?.get(String(id));
  }

  set(id: WorkflowId, value: T): this {
    const slot = slotOf(id);
    if (slot >= 0) this.#slots[slot] = value;
    else (this.#named ??= new Map()).set(String(id), value);
    return this;
  }
}

/** Whether two ids name the same node, whatever their JSON types. */
export const sameId = (a: WorkflowId, b: WorkflowId): boolean => (typeof a === typeof b ? a === b : String(a) === String(b));
