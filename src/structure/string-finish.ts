import type { CharDfa } from './char-dfa.js';

/**
 * Whether a JSON string can still be finished validly: from a pattern-automaton state and a count of code points
 * read, is some continuation both accepted by the pattern and within [minLength, maxLength]? Answers are memoised
 * per (state, length); the string leaf asks before every state it creates so the mask never leads into a dead end.
 */
export class StringFinish {
  private readonly memo = new Map<string, boolean>();

  constructor(
    private readonly dfa: CharDfa | null,
    private readonly minLength: number,
    private readonly maxLength: number | undefined,
  ) {}

  /** Whether, from DFA state `cs` with `len` code points read, some continuation closes the string validly. */
  canFinish(cs: number, len: number): boolean {
    const { minLength, maxLength } = this;
    if (maxLength !== undefined && len > maxLength) return false;
    const dfa = this.dfa;
    if (!dfa) return maxLength === undefined || maxLength >= minLength;
    const key = `${cs},${len}`;
    const memo = this.memo.get(key);
    if (memo !== undefined) return memo;
    const need = Math.max(0, minLength - len);
    const room = maxLength === undefined ? Infinity : maxLength - len;
    let ok: boolean;
    if (!dfa.isLive(cs)) ok = false;
    else if (need === 0 && room === Infinity) ok = true;
    else if (need === 0 && dfa.shortestAccept(cs) <= room) ok = true;
    else ok = this.layeredSearch(cs, need, room);
    this.memo.set(key, ok);
    return ok;
  }

  /** Breadth-first over (state, steps): is an accepting state reachable in a step count within [need, room]? */
  private layeredSearch(cs: number, need: number, room: number): boolean {
    const dfa = this.dfa!;
    let layer = new Set([cs]);
    for (let step = 0; layer.size > 0; step++) {
      if (step >= need) {
        for (const s of layer) if (dfa.shortestAccept(s) <= room - step) return true;
        return false;
      }
      if (step >= room) return false;
      const next = new Set<number>();
      for (const s of layer) for (const t of dfa.successors(s)) next.add(t);
      layer = next;
    }
    return false;
  }

  /** The most characters any live pattern state within `steps` characters of `cs` still needs to accept. */
  needWithin(cs: number, steps: number): number {
    const dfa = this.dfa!;
    let layer = [cs];
    const seen = new Set(layer);
    let most = dfa.shortestAccept(cs);
    for (let i = 0; i < steps && layer.length > 0; i++) {
      const next: number[] = [];
      for (const from of layer) {
        for (const t of dfa.successors(from)) {
          if (seen.has(t) || !dfa.isLive(t)) continue;
          seen.add(t);
          next.push(t);
          most = Math.max(most, dfa.shortestAccept(t));
        }
      }
      layer = next;
    }
    return most;
  }
}
