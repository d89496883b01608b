import type { Leaf, PlainPattern } from './leaf.js';
import type { PlainIndex } from './leaf-masks.js';
import type { Vocabulary } from './vocabulary.js';

/** The plain tokens one pattern state lets through, grouped by the state each leaves behind. */
interface PlainGroups {
  /** Twin end state of each group. */
  ends: number[];
  /** Tokens of each group. */
  masks: Uint32Array[];
  /** Most code points of a token in each group. */
  longest: number[];
  /** Every group's tokens (the answer when no length bound can matter). */
  union: Uint32Array;
}

const cache = new WeakMap<Leaf, WeakMap<Vocabulary, Map<number, PlainGroups>>>();

/**
 * ORs into `out` the plain tokens a patterned string body accepts. The walk that finds them follows the pattern
 * alone (the length-free twin), so it is paid once per pattern state and shared by every length and every leaf
 * with this pattern; length bounds are applied per token, and only where they can bite.
 */
export function addPatternedPlain(p: PlainPattern, vocab: Vocabulary, plain: PlainIndex, out: Uint32Array): void {
  const groups = plainGroups(p.twin, p.twinState, vocab, plain.chars);
  if (p.unbounded) {
    orInto(out, groups.union);
    return;
  }
  for (let g = 0; g < groups.ends.length; g++) {
    const fit: boolean[] = [];
    for (let n = 1; n <= groups.longest[g]!; n++) fit.push(p.fits(groups.ends[g]!, n));
    const mask = groups.masks[g]!;
    if (fit.every(Boolean)) orInto(out, mask);
    else {
      fit.forEach((ok, i) => {
        if (!ok) return;
        const upTo = plain.atMost[i + 1]!;
        const below = plain.atMost[i]!;
        for (let w = 0; w < out.length; w++) out[w]! |= mask[w]! & upTo[w]! & ~below[w]!;
      });
    }
  }
}

function orInto(out: Uint32Array, mask: Uint32Array): void {
  for (let i = 0; i < out.length; i++) out[i]! |= mask[i]!;
}

function plainGroups(twin: Leaf, state: number, vocab: Vocabulary, chars: Int32Array): PlainGroups {
  let byVocab = cache.get(twin);
  if (!byVocab) cache.set(twin, (byVocab = new WeakMap()));
  let byState = byVocab.get(vocab);
  if (!byState) byVocab.set(vocab, (byState = new Map()));
  let groups = byState.get(state);
  if (!groups) byState.set(state, (groups = walkGroups(twin, state, vocab, chars)));
  return groups;
}

/**
 * Walks the vocabulary trie on `twin` from `state`, grouping the plain tokens it accepts by their end state. The
 * few tokens that are not plain are walked too (their subtrees are small) but left to the caller's exact walk.
 */
function walkGroups(twin: Leaf, state: number, vocab: Vocabulary, chars: Int32Array): PlainGroups {
  const ends: number[] = [];
  const masks: Uint32Array[] = [];
  const longest: number[] = [];
  const groupOf = new Map<number, number>();
  const { byte, end, tokenStart, tokenIds } = vocab.trie;
  let table = twin.transitions;
  const visit = (node: number, from: number): void => {
    const row = from * 256;
    for (let c = node + 1, stop = end[node]!; c < stop; c = end[c]!) {
      // Inline table lookup: this loop runs once per trie node of the walk, the method call is measurable.
      let t = table[row + byte[c]!]!;
      if (t === -2) {
        t = twin.next(from, byte[c]!);
        table = twin.transitions;
      }
      if (t < 0) continue;
      const k0 = tokenStart[c]!;
      const k1 = tokenStart[c + 1]!;
      if (k1 > k0) {
        // Tokens at one node share their bytes, hence their end state and group.
        let g = groupOf.get(t);
        if (g === undefined) {
          groupOf.set(t, (g = ends.length));
          ends.push(t);
          masks.push(new Uint32Array(vocab.maskWords));
          longest.push(0);
        }
        const mask = masks[g]!;
        for (let k = k0; k < k1; k++) {
          const id = tokenIds[k]!;
          const n = chars[id]!;
          if (n <= 0) continue;
          mask[id >>> 5]! |= 1 << (id & 31);
          if (n > longest[g]!) longest[g] = n;
        }
      }
      if (end[c]! > c + 1) visit(c, t);
    }
  };
  visit(0, state);
  const union = new Uint32Array(vocab.maskWords);
  for (const mask of masks) orInto(union, mask);
  return { ends, masks, longest, union };
}
