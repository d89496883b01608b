/**
 * A byte trie over a vocabulary, flattened in preorder so a depth-first walk is a loop over arrays and pruning a
 * subtree is one jump (`end[node]`), the layout llguidance's toktrie made popular. Node 0 is the root (no byte).
 */
export class TokenTrie {
  /** Byte on the edge into each node. */
  readonly byte: Uint8Array;
  /** One past the last node of each node's subtree. */
  readonly end: Int32Array;
  /** First index into `tokenIds` of the tokens whose bytes end exactly at each node. */
  readonly tokenStart: Int32Array;
  /** Token ids grouped by node (several ids may share the same bytes). */
  readonly tokenIds: Int32Array;
  /** Number of nodes. */
  readonly nodeCount: number;

  /** Builds the trie from token bytes; `null` entries (special tokens) are left out. */
  constructor(tokens: readonly (Uint8Array | null)[]) {
    // Sorting latin1 strings sorts by bytes, using the engine's native compare instead of a JS comparator.
    const keyed: { key: string; id: number }[] = [];
    for (let id = 0; id < tokens.length; id++) {
      const bytes = tokens[id];
      if (bytes && bytes.length > 0) keyed.push({ key: latin1(bytes), id });
    }
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id));
    let capacity = 1;
    for (let i = 0; i < keyed.length; i++) capacity += keyed[i]!.key.length;
    const byte = new Uint8Array(capacity);
    const end = new Int32Array(capacity);
    const tokenStart = new Int32Array(capacity + 1);
    const tokenIds = new Int32Array(keyed.length);
    const path: number[] = [0]; // path[d] = node at depth d on the current branch
    let nodes = 1;
    let prev = '';
    const tokenCount = new Int32Array(capacity);
    const order: number[] = [];
    for (const { key } of keyed) {
      let lcp = 0;
      while (lcp < key.length && lcp < prev.length && key.charCodeAt(lcp) === prev.charCodeAt(lcp)) lcp++;
      // Close the nodes of the previous branch that this key leaves.
      while (path.length > lcp + 1) end[path.pop()!] = nodes;
      for (let d = lcp; d < key.length; d++) {
        byte[nodes] = key.charCodeAt(d);
        path.push(nodes++);
      }
      const node = path[path.length - 1]!;
      tokenCount[node]!++;
      order.push(node);
      prev = key;
    }
    while (path.length > 0) end[path.pop()!] = nodes;
    let acc = 0;
    for (let n = 0; n < nodes; n++) {
      tokenStart[n] = acc;
      acc += tokenCount[n]!;
    }
    tokenStart[nodes] = acc;
    const fill = tokenStart.slice(0, nodes);
    for (let i = 0; i < keyed.length; i++) tokenIds[fill[order[i]!]!++] = keyed[i]!.id;
    this.byte = byte.slice(0, nodes);
    this.end = end.slice(0, nodes);
    this.tokenStart = tokenStart.slice(0, nodes + 1);
    this.tokenIds = tokenIds;
    this.nodeCount = nodes;
  }

  /** The node reached by following `bytes` from the root, or -1. */
  lookup(bytes: Uint8Array): number {
    let node = 0;
    for (const b of bytes) {
      let child = node + 1;
      const stop = this.end[node]!;
      while (child < stop && this.byte[child] !== b) child = this.end[child]!;
      if (child >= stop) return -1;
      node = child;
    }
    return node;
  }
}

/** Bytes as a latin1 string (one char per byte), a compact sortable key. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
