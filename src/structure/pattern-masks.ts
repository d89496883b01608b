import type { CharDfa } from './char-dfa.js';
import { foldByClass, plainCodePointTrie, type SymbolTrie } from './class-trie.js';
import type { PlainPattern } from './leaf.js';
import type { PlainIndex } from './leaf-masks.js';
import type { Vocabulary } from './vocabulary.js';
import { sharedPool } from './typed-pool.js';

/** The plain tokens one pattern state lets through, grouped by the pattern state each leaves behind. */
interface PlainGroups {
  /** Pattern end state of each group. */
  ends: number[];
  /** Tokens of each group. */
  masks: Uint32Array[];
  /** Most code points of a token in each group. */
  longest: number[];
  /** Every group's tokens (the answer when no length bound can matter). */
  union: Uint32Array;
}

/** Per pattern and vocabulary: the walks so far (by pattern state), and the trie they walk. */
interface PatternWalks {
  groups: Map<number, PlainGroups>;
  trie: SymbolTrie;
  /** Symbol → class for symbols below its length (all of a class trie's; ASCII of a code point trie). */
  classes: Int32Array;
  /** On the code point trie: the one class of every non-ASCII character, or -1 (see `CharClasses.nonAsciiClass`). */
  nonAscii: number;
  foldTried: boolean;
  /** Code point trie nodes visited so far; past the trie's size, folding it by class pays for itself. */
  visited: number;
}

const cache = new WeakMap<CharDfa, WeakMap<Vocabulary, PatternWalks>>();

/**
 * ORs into `out` the plain tokens a patterned string body accepts. The walk that finds them follows the pattern
 * alone, over its class trie, so it is paid once per pattern state and shared by every length and every leaf with
 * this pattern; length bounds are applied per token, and only where they can bite.
 */
export function addPatternedPlain(p: PlainPattern, vocab: Vocabulary, plain: PlainIndex, out: Uint32Array): void {
  // Where no length can bite and no text can fail, every plain token passes: no walk (unanchored literals have
  // dozens of states, each of which would walk most of the trie for this).
  if (p.unbounded && p.dfa.isOpen(p.state)) {
    orInto(out, plain.atMost[plain.atMost.length - 1]!);
    return;
  }
  const groups = plainGroups(p.dfa, p.state, vocab, plain.chars);
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

function plainGroups(dfa: CharDfa, state: number, vocab: Vocabulary, chars: Int32Array): PlainGroups {
  let byVocab = cache.get(dfa);
  if (!byVocab) cache.set(dfa, (byVocab = new WeakMap()));
  let walks = byVocab.get(vocab);
  if (!walks) {
    const trie = plainCodePointTrie(vocab, chars);
    byVocab.set(
      vocab,
      (walks = {
        groups: new Map(),
        trie,
        classes: dfa.classes.asciiClasses,
        nonAscii: dfa.classes.nonAsciiClass,
        foldTried: false,
        visited: 0,
      }),
    );
  }
  let groups = walks.groups.get(state);
  if (!groups) {
    // Restrictive patterns prune the code point trie near its root; permissive ones visit most of it on every
    // walk, and those pay for a class trie once: when this walk looks broad, or the walks so far have cost as
    // much as folding (ski rental).
    if (!walks.foldTried && (walks.visited > walks.trie.symbol.length || broad(walks, dfa.liveSteps(state)))) {
      const trie = foldByClass(dfa, plainCodePointTrie(vocab, chars));
      walks.foldTried = true;
      if (trie)
        Object.assign(walks, {
          trie,
          classes: Int32Array.from({ length: dfa.classes.classCount }, (_, c) => c),
          nonAscii: -1,
        });
    }
    groups = walkGroups(dfa, state, vocab, walks);
    walks.groups.set(state, groups);
  }
  return groups;
}

/** Whether the ASCII first characters this state accepts lead to over an eighth of the code point trie. */
function broad(walks: PatternWalks, row: Int32Array): boolean {
  const { symbol, end } = walks.trie;
  let below = 0;
  for (let c = 1; c < end[0]! && symbol[c]! < 128; c = end[c]!)
    if (row[walks.classes[symbol[c]!]!]! >= 0) below += end[c]! - c;
  return below * 8 > symbol.length;
}

/**
 * Walks the pattern's trie from `state`, grouping the plain tokens it accepts by their end state. A token is
 * accepted when every character steps to a live state: exactly what the string lexer demands of a pattern with no
 * length bounds, character by character. Iterative, with one row of successor states per depth: this loop runs
 * once per trie node visited.
 */
function walkGroups(dfa: CharDfa, state: number, vocab: Vocabulary, walks: PatternWalks): PlainGroups {
  const ends: number[] = [];
  const masks: Uint32Array[] = [];
  const longest: number[] = [];
  const groupOf: number[] = [];
  const { symbol, end, tokenStart, tokenIds } = walks.trie;
  const { classes, nonAscii } = walks;
  const rows = [dfa.liveSteps(state)];
  const stops = [end[0]!];
  let row = rows[0]!;
  let stop = stops[0]!;
  let visited = 0;
  for (let c = 1; ; ) {
    if (c >= stop) {
      if (rows.length === 1) break;
      rows.pop();
      stops.pop();
      row = rows[rows.length - 1]!;
      stop = stops[stops.length - 1]!;
      continue;
    }
    visited++;
    const sym = symbol[c]!;
    const t = row[sym < classes.length ? classes[sym]! : nonAscii >= 0 ? nonAscii : dfa.classes.classOf(sym)]!;
    const next = end[c]!;
    if (t < 0) {
      // Siblings come in code point order: past a dead non-ASCII one of the uniform class, all the rest are dead.
      c = nonAscii >= 0 && sym >= 128 ? stop : next;
      continue;
    }
    const k1 = tokenStart[c + 1]!;
    if (k1 > tokenStart[c]!) {
      // Tokens at one node share their class sequence, hence their end state and group; depth = code points.
      let g = groupOf[t];
      if (g === undefined) {
        groupOf[t] = g = ends.length;
        ends.push(t);
        masks.push(sharedPool.uint32Array(vocab.maskWords));
        longest.push(0);
      }
      const mask = masks[g]!;
      for (let k = tokenStart[c]!; k < k1; k++) {
        const id = tokenIds[k]!;
        mask[id >>> 5]! |= 1 << (id & 31);
      }
      if (rows.length > longest[g]!) longest[g] = rows.length;
    }
    if (next > c + 1) {
      rows.push((row = dfa.liveSteps(t)));
      stops.push((stop = next));
      c++;
    } else c = next;
  }
  if (!walks.foldTried) walks.visited += visited;
  const union = sharedPool.uint32Array(vocab.maskWords);
  for (const mask of masks) orInto(union, mask);
  return { ends, masks, longest, union };
}
