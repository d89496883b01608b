/**
 * A binary min-heap of (priority, value) integer pairs, for the Dijkstra searches of the shortest-completion
 * analysis. Stale entries are the caller's to skip (lazy deletion), which keeps this a plain array heap.
 */
export class MinHeap {
  private readonly keys: number[] = [];
  private readonly values: number[] = [];

  /** Number of entries. */
  get size(): number {
    return this.keys.length;
  }

  /** Adds `value` with priority `key`. */
  push(key: number, value: number): void {
    const { keys, values } = this;
    let i = keys.length;
    keys.push(key);
    values.push(value);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= key) break;
      keys[i] = keys[p]!;
      values[i] = values[p]!;
      i = p;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** Removes the entry of least priority; returns [priority, value]. The heap must not be empty. */
  pop(): [number, number] {
    const { keys, values } = this;
    const top: [number, number] = [keys[0]!, values[0]!];
    const lastKey = keys.pop()!;
    const lastValue = values.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && keys[c + 1]! < keys[c]!) c++;
        if (keys[c]! >= lastKey) break;
        keys[i] = keys[c]!;
        values[i] = values[c]!;
        i = c;
      }
      keys[i] = lastKey;
      values[i] = lastValue;
    }
    return top;
  }
}
