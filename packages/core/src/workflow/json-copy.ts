type Container = Record<string, unknown> | unknown[];

const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;

function set(target: Container, key: string | number, value: unknown): void {
  // An own "__proto__" key (JSON.parse makes one) must stay a key, not become the prototype.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else (target as Record<string | number, unknown>)[key] = value;
}

/**
 * A deep copy of JSON data (plain objects and arrays) with a work list instead of recursion, so that values
 * nested to any depth copy without overflowing the stack. Shared and circular references are kept as such.
 */
export function copyJson<T>(value: T): T {
  if (!isContainer(value)) return value;
  const copies = new Map<Container, Container>();
  const pending: Container[] = [];
  const copyOf = (source: Container): Container => {
    let copy = copies.get(source);
    if (!copy) {
      copy = Array.isArray(source) ? new Array<unknown>(source.length) : {};
      copies.set(source, copy);
      pending.push(source);
    }
    return copy;
  };
  const root = copyOf(value);
  while (pending.length > 0) {
    const source = pending.pop()!;
    const target = copies.get(source)!;
    if (Array.isArray(source)) {
      for (let i = 0; i < source.length; i++) {
        const item: unknown = source[i];
        set(target, i, isContainer(item) ? copyOf(item) : item);
      }
    } else {
      for (const key of Object.keys(source)) {
        const item = source[key];
        set(target, key, isContainer(item) ? copyOf(item) : item);
      }
    }
  }
  return root as T;
}
