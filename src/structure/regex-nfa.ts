import type { RegexNode, Ranges } from './regex-parser.js';
import type { WorkMeter } from './regex-budget.js';

const CHAR = 0;
const SPLIT = 1;
const EPS = 2;
const BOL = 3;
const EOL = 4;
const MATCH = 5;
const ANY: Ranges = [0, 0x10ffff];

/** Whether sorted, disjoint inclusive ranges `r` hold code point `cp`. */
export function rangesContain(r: Ranges, cp: number): boolean {
  for (let i = 0; i < r.length; i += 2) {
    if (cp < r[i]!) return false;
    if (cp <= r[i + 1]!) return true;
  }
  return false;
}

/**
 * A Thompson NFA over code points, as parallel arrays (kind, next, alt, set per state). `CharDfa` runs the subset
 * construction over it; core states (the ones that read a character, `$`, or match) name DFA states.
 */
export class RegexNfa {
  /** The state the whole pattern starts from. */
  readonly entry: number;
  private readonly kind: number[] = [];
  private readonly next: number[] = [];
  private readonly alt: number[] = [];
  /** The character set each state reads (null for states that read none). */
  readonly sets: (Ranges | null)[] = [];

  /**
   * @param search wrap the pattern in `[^]*…[^]*`, as JSON Schema's unanchored `pattern` requires.
   * @param maxStates refuse (throw RangeError) beyond this many states.
   */
  constructor(
    node: RegexNode,
    search: boolean,
    private readonly maxStates: number,
    private readonly meter: WorkMeter,
  ) {
    const match = this.add(MATCH, -1, -1, null);
    const anything: RegexNode = { t: 'rep', item: { t: 'set', ranges: ANY }, min: 0, max: -1 };
    this.entry = this.build(search ? { t: 'cat', items: [anything, node, anything] } : node, match);
  }

  /** The states reached by reading `cp` from the core states `core`, before their epsilon closure. */
  targets(core: readonly number[], cp: number): number[] {
    this.meter.spend(core.length);
    const out: number[] = [];
    for (const n of core) if (this.kind[n] === CHAR && rangesContain(this.sets[n]!, cp)) out.push(this.next[n]!);
    return out;
  }

  /** Core states (CHAR, EOL, MATCH) reachable by epsilon moves; `^` passes only at the start of input. */
  closure(roots: readonly number[], atStart: boolean): number[] {
    const seen = new Set<number>();
    const core: number[] = [];
    const stack = [...roots];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      this.meter.spend(1);
      const k = this.kind[n];
      if (k === SPLIT) stack.push(this.next[n]!, this.alt[n]!);
      else if (k === EPS) stack.push(this.next[n]!);
      else if (k === BOL) {
        if (atStart) stack.push(this.next[n]!);
      } else core.push(n);
    }
    return core.sort((a, b) => a - b);
  }

  /** Whether the input may end at these core states (`$` passes at the end, `^` only if nothing was read). */
  acceptsAtEnd(core: readonly number[], atStart: boolean): boolean {
    const stack = [...core];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      this.meter.spend(1);
      const k = this.kind[n];
      if (k === MATCH) return true;
      if (k === EOL || k === EPS) stack.push(this.next[n]!);
      else if (k === SPLIT) stack.push(this.next[n]!, this.alt[n]!);
      else if (k === BOL && atStart) stack.push(this.next[n]!);
    }
    return false;
  }

  private add(kind: number, next: number, alt: number, set: Ranges | null): number {
    if (this.kind.length >= this.maxStates) throw new RangeError(`regex NFA exceeds ${this.maxStates} states`);
    this.meter.spend(1);
    this.kind.push(kind);
    this.next.push(next);
    this.alt.push(alt);
    this.sets.push(set);
    return this.kind.length - 1;
  }

  /** Thompson construction, back to front: returns the entry state of `node` whose exit leads to `out`. */
  private build(node: RegexNode, out: number): number {
    switch (node.t) {
      case 'set':
        return this.add(CHAR, out, -1, node.ranges);
      case 'bol':
        return this.add(BOL, out, -1, null);
      case 'eol':
        return this.add(EOL, out, -1, null);
      case 'cat':
        return node.items.reduceRight((next, item) => this.build(item, next), out);
      case 'alt': {
        const entries = node.items.map((item) => this.build(item, out));
        return entries.reduceRight((rest, entry) => this.add(SPLIT, entry, rest, null));
      }
      case 'rep': {
        let cur = out;
        if (node.max === -1) {
          const loop = this.add(SPLIT, -1, out, null);
          this.next[loop] = this.build(node.item, loop);
          cur = loop;
        } else {
          for (let i = node.min; i < node.max; i++) cur = this.add(SPLIT, this.build(node.item, cur), out, null);
        }
        for (let i = 0; i < node.min; i++) cur = this.build(node.item, cur);
        return cur;
      }
    }
  }
}
