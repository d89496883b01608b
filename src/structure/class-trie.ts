import type { CharDfa } from './char-dfa.js';
import type { Vocabulary } from './vocabulary.js';

/**
 * A trie over symbols (code points or a pattern's character classes), flattened in preorder like `TokenTrie` so a
 * depth-first walk is a loop over arrays and pruning a subtree is one jump.
 */
export interface SymbolTrie {
  /** Symbol on the edge into each node (root: -1). */
  symbol: Int32Array;
  /** One past the last node of each node's subtree. */
  end: Int32Array;
  /** First index into `tokenIds` of the tokens whose symbols end exactly at each node. */
  tokenStart: Int32Array;
  /** Token ids grouped by node. */
  tokenIds: Int32Array;
}

/** The code point trie also keeps what folding by class needs: parent links, and the node of each `tokenIds` entry. */
export interface CodePointTrie extends SymbolTrie {
  parent: Int32Array;
  tokenNode: Int32Array;
}

const codePointTries = new WeakMap<Vocabulary, CodePointTrie>();

/**
 * Per vocabulary, once: its plain tokens (see `plainChars`; `chars` is their code point count, -1 if not plain)
 * decoded and merged into a code point trie. Pattern automata read code points, so walking this trie needs no
 * UTF-8 states, and it is the input of `foldByClass`.
 */
export function plainCodePointTrie(vocab: Vocabulary, chars: Int32Array): CodePointTrie {
  let trie = codePointTries.get(vocab);
  if (trie) return trie;
  const parent: number[] = [-1];
  const codePoint: number[] = [-1];
  const end: number[] = [0];
  const tokens: number[] = [];
  const tokenNode: number[] = [];
  const path: number[] = [0];
  let previous: number[] = [];
  // The byte trie lists tokens in byte order, which is code point order, so each token shares its longest common
  // prefix with the one before and nodes are created in preorder.
  for (const id of vocab.trie.tokenIds) {
    if (chars[id]! <= 0) continue;
    const cps = decodeUtf8(vocab.tokens[id]!);
    let lcp = 0;
    while (lcp < cps.length && lcp < previous.length && cps[lcp] === previous[lcp]) lcp++;
    while (path.length > lcp + 1) end[path.pop()!] = parent.length;
    for (let d = lcp; d < cps.length; d++) {
      parent.push(path[d]!);
      codePoint.push(cps[d]!);
      end.push(0);
      path.push(parent.length - 1);
    }
    tokens.push(id);
    tokenNode.push(path[cps.length]!);
    previous = cps;
  }
  while (path.length > 0) end[path.pop()!] = parent.length;
  const { tokenStart, tokenIds } = groupTokens(parent.length, Int32Array.from(tokens), Int32Array.from(tokenNode));
  // Tokens arrive in byte order, which is preorder, so grouping by node kept their order: tokenNode still lines up.
  trie = {
    parent: Int32Array.from(parent),
    symbol: Int32Array.from(codePoint),
    end: Int32Array.from(end),
    tokenStart,
    tokenIds,
    tokenNode: Int32Array.from(tokenNode),
  };
  codePointTries.set(vocab, trie);
  return trie;
}

/** Most (class node × class) cells a fold may use. */
const MAX_FOLD_CELLS = 1 << 22;
/** A fold keeping more than this share of the nodes is given up: walking it would save too little. */
const MAX_FOLD_SHARE = 1 / 8;

/**
 * The code point trie folded by `dfa`'s character classes, or null when it would not shrink much. The automaton
 * cannot tell apart characters of one class, so every token with the same class sequence behaves alike and shares
 * a node: for `^(\S+\s+){0,99}\S+$` the 120K plain Llama 3 tokens fold into a few hundred nodes, and each walk per
 * pattern state costs that instead of a quarter million. One pass: a node's class node is its parent's class
 * node's child for its class, looked up in a dense (class node × class) table.
 */
export function foldByClass(dfa: CharDfa, cpt: CodePointTrie): SymbolTrie | null {
  const count = cpt.parent.length;
  const classCount = dfa.classes.classCount;
  const ascii = dfa.classes.asciiClasses;
  const nodeOf = new Int32Array(count);
  const parents = [-1];
  const symbols = [-1];
  let child = new Int32Array(classCount * 256).fill(-1);
  for (let n = 1; n < count; n++) {
    const cp = cpt.symbol[n]!;
    const cls = cp < 128 ? ascii[cp]! : dfa.classes.classOf(cp);
    const cell = nodeOf[cpt.parent[n]!]! * classCount + cls;
    let to = child[cell]!;
    if (to < 0) {
      to = parents.length;
      if (to > count * MAX_FOLD_SHARE) return null;
      if ((to + 1) * classCount > child.length) {
        if (child.length * 2 > MAX_FOLD_CELLS) return null;
        const grown = new Int32Array(child.length * 2).fill(-1);
        grown.set(child);
        child = grown;
      }
      child[cell] = to;
      parents.push(nodeOf[cpt.parent[n]!]!);
      symbols.push(cls);
    }
    nodeOf[n] = to;
  }
  return preorder(parents, symbols, cpt, nodeOf);
}

/** Lays out a parent-linked tree (parents before children) in preorder; `nodeOf` maps code point nodes to it. */
function preorder(
  parents: readonly number[],
  symbols: readonly number[],
  cpt: CodePointTrie,
  nodeOf: Int32Array,
): SymbolTrie {
  const n = parents.length;
  const childStart = new Int32Array(n + 1);
  for (let v = 1; v < n; v++) childStart[parents[v]! + 1]!++;
  for (let v = 0; v < n; v++) childStart[v + 1]! += childStart[v]!;
  const childList = new Int32Array(Math.max(0, n - 1));
  const fill = childStart.slice(0, n);
  for (let v = 1; v < n; v++) childList[fill[parents[v]!]!++] = v;
  const position = new Int32Array(n);
  const symbol = new Int32Array(n);
  const end = new Int32Array(n);
  const stack = [0];
  let next = 0;
  // Iterative DFS; a negative entry ~v marks v's subtree as done, so its end can be recorded.
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v < 0) {
      end[position[~v]!] = next;
      continue;
    }
    position[v] = next;
    symbol[next++] = symbols[v]!;
    stack.push(~v);
    for (let k = childStart[v + 1]! - 1; k >= childStart[v]!; k--) stack.push(childList[k]!);
  }
  // Each token moves from its code point node to the class node's preorder position.
  const where = new Int32Array(cpt.tokenNode.length);
  for (let k = 0; k < where.length; k++) where[k] = position[nodeOf[cpt.tokenNode[k]!]!]!;
  return { symbol, end, ...groupTokens(n, cpt.tokenIds, where) };
}

/** Token ids grouped by node (CSR), from each token's node. */
function groupTokens(
  nodes: number,
  tokens: Int32Array,
  node: Int32Array,
): { tokenStart: Int32Array; tokenIds: Int32Array } {
  const tokenStart = new Int32Array(nodes + 1);
  for (let i = 0; i < node.length; i++) tokenStart[node[i]! + 1]!++;
  for (let p = 0; p < nodes; p++) tokenStart[p + 1]! += tokenStart[p]!;
  const slot = tokenStart.slice(0, nodes);
  const tokenIds = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) tokenIds[slot[node[i]!]!++] = tokens[i]!;
  return { tokenStart, tokenIds };
}

/** Code points of bytes already known to be whole, valid UTF-8 (plain tokens). */
function decodeUtf8(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
    let cp = need === 0 ? b : b & (0x3f >> need);
    for (let k = 1; k <= need; k++) cp = (cp << 6) | (bytes[i + k]! & 0x3f);
    out.push(cp);
    i += need + 1;
  }
  return out;
}
