/**
 * Python's heapq on an array, so `queue_pending` comes out in heap order as the real server's does
 * (clients must sort it by number themselves).
 */
export function heapPush<T>(heap: T[], item: T, less: (a: T, b: T) => boolean): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

export function heapPop<T>(heap: T[], less: (a: T, b: T) => boolean): T | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  heap[0] = last;
  heapify(heap, less);
  return top;
}

export function heapify<T>(heap: T[], less: (a: T, b: T) => boolean): void {
  for (let start = (heap.length >> 1) - 1; start >= 0; start--) {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}
