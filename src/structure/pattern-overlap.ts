import type { CharDfa } from './char-dfa.js';
import { MAX_REGEX_WORK } from './regex-budget.js';
import { CompileError } from './errors.js';
import { patternDfa } from './leaf-factory.js';
import type { Limits } from './limits.js';

/** State pairs a search may visit before it gives the safe answer (overlap). */
const MAX_PAIRS = 20_000;
/** Pair × letter steps a search may take before it gives the safe answer: the same budget one pattern gets. */
const MAX_STEPS = MAX_REGEX_WORK;

/**
 * A key matching two `patternProperties` would need both value schemas at once, which the key leaf cannot route
 * to (it routes each key to one schema); it refuses such keys, and a key that every completion makes match two
 * patterns could then never close. Overlapping patterns are therefore refused at compile time.
 */
export function refuseOverlappingPatterns(patterns: readonly string[], pointer: string, limits: Limits): void {
  if (patterns.length < 2) return;
  const dfas = patterns.map((p) => patternDfa(p, limits));
  for (let i = 0; i < dfas.length; i++) {
    for (let j = i + 1; j < dfas.length; j++) {
      if (overlap(dfas[i]!, dfas[j]!)) {
        throw new CompileError(
          'patternProperties',
          pointer,
          `patterns ${JSON.stringify(patterns[i])} and ${JSON.stringify(patterns[j])} can match the same key (each key is routed to one schema)`,
        );
      }
    }
  }
}

/**
 * Whether some text (of JSON-string characters: no surrogates) matches both automata — a breadth-first search
 * over state pairs on the common refinement of their intervals. Past `MAX_PAIRS` pairs or `MAX_STEPS` steps it
 * answers true.
 */
function overlap(a: CharDfa, b: CharDfa): boolean {
  const letters = [...new Set([...a.classes.intervalStarts(), ...b.classes.intervalStarts()])].filter(
    (cp) => cp < 0xd800 || cp > 0xdfff,
  );
  const seen = new Set([`${a.start},${b.start}`]);
  const queue: [number, number][] = [[a.start, b.start]];
  for (let i = 0; i < queue.length; i++) {
    if ((i + 1) * letters.length > MAX_STEPS) return true;
    const [s, t] = queue[i]!;
    if (a.isAccepting(s) && b.isAccepting(t)) return true;
    for (const cp of letters) {
      const s2 = a.step(s, cp);
      const t2 = b.step(t, cp);
      if (s2 < 0 || t2 < 0 || !a.isLive(s2) || !b.isLive(t2)) continue;
      const key = `${s2},${t2}`;
      if (seen.has(key)) continue;
      if (seen.size >= MAX_PAIRS) return true;
      seen.add(key);
      queue.push([s2, t2]);
    }
  }
  return false;
}
