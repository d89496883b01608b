import type { Leaf } from './leaf.js';
import { isJsonSpace, type Machine } from './machine.js';

/** One declared property. */
export interface PropertySpec {
  name: string;
  /** Machine for the value; -1 when no value satisfies it (the key may then never appear). */
  value: number;
  required: boolean;
}

/** What an object must hold. Machine ids refer to the same grammar. */
export interface ObjectSpec {
  /** Declared properties, in schema order. */
  properties: readonly PropertySpec[];
  /** `patternProperties`: a key leaf (a JSON string lexeme matching the pattern) and the value machine. */
  patterns: readonly { key: Leaf; value: number }[];
  /** Key leaf and value machine for other keys (`additionalProperties`), or null when they are forbidden. */
  additional: { key: Leaf; value: number } | null;
  minProperties: number;
  maxProperties: number | undefined;
  /** Properties in schema order only (`schema`, the default) or in any order (`any`). */
  order: 'schema' | 'any';
  maxWhitespace: number;
}

const O_OPEN = 0;
const O_FIRST = 1; // after `{`
const O_KEY = 2;
const O_COLON = 3; // key read, before `:`
const O_VALUE = 4; // after `:`
const O_AFTER = 5; // after a value
const O_NEXT = 6; // after `,`
const O_END = 7;

interface St {
  phase: number;
  /** Declared properties present, as a '0'/'1' string indexed like `properties`. */
  seen: string;
  /** Schema index of the last declared property (schema order only), -1 before any. */
  last: number;
  /** Members so far (declared + other), capped where it stops mattering. */
  count: number;
  ws: number;
  /** Key lexing: position in the declared-name trie (-1 = off it), pattern leaf states, additional leaf state. */
  trie: number;
  pat: number[];
  add: number;
  /** Value machine to call, and the declared index it fills (-1 for pattern/additional). */
  target: number;
  filled: number;
}

/**
 * `{"key":value,…}` against declared, pattern and additional properties. Declared keys are read through a byte
 * trie of their canonical JSON spellings, offering only keys still allowed (not yet present; in schema order, not
 * skipping a required one), so a document can never paint itself into a corner. Keys are canonical strings (see
 * StringLeaf), so a byte-wise match is a decoded match. A key that both names a declared property and matches a
 * pattern is routed to the declared schema, into which the compiler merged the pattern's; a key matching two
 * patterns would need their intersection and is refused (stricter, never looser).
 */
export class ObjectMachine implements Machine {
  readonly leaf = null;
  readonly start = 0;
  private readonly states: St[] = [];
  private readonly ids = new Map<string, number>();
  private readonly table: Int32Array[] = [];
  private readonly callCache: (number[] | undefined)[] = [];
  private readonly trieNext: Map<number, number>[] = [new Map()];
  private readonly trieEnd: number[] = [-1];
  /** Declared indices reachable below each trie node. */
  private readonly trieBelow: number[][] = [[]];
  private readonly required: number[];

  constructor(private readonly spec: ObjectSpec) {
    const enc = new TextEncoder();
    spec.properties.forEach((p, i) => {
      let node = 0;
      this.trieBelow[0]!.push(i);
      for (const b of enc.encode(JSON.stringify(p.name))) {
        let child = this.trieNext[node]!.get(b);
        if (child === undefined) {
          child = this.trieNext.length;
          this.trieNext.push(new Map());
          this.trieEnd.push(-1);
          this.trieBelow.push([]);
          this.trieNext[node]!.set(b, child);
        }
        node = child;
        this.trieBelow[node]!.push(i);
      }
      this.trieEnd[node] = i;
    });
    this.required = spec.properties.flatMap((p, i) => (p.required ? [i] : []));
    const none = '0'.repeat(spec.properties.length);
    this.intern({ phase: O_OPEN, seen: none, last: -1, count: 0, ws: 0, trie: -1, pat: [], add: -1, target: -1, filled: -1 });
  }

  private intern(s: St): number {
    const key = `${s.phase}|${s.seen}|${s.last}|${s.count}|${s.ws}|${s.trie}|${s.pat.join(',')}|${s.add}|${s.target}|${s.filled}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.states.length;
      this.ids.set(key, id);
      this.states.push(s);
      this.table.push(new Int32Array(256).fill(-2));
    }
    return id;
  }

  /** Whether declared property i may come next. */
  private allowed(s: St, i: number): boolean {
    if (s.seen[i] === '1' || this.spec.properties[i]!.value < 0) return false;
    if (this.spec.order === 'any') return true;
    if (i <= s.last) return false;
    return !this.required.some((r) => r > s.last && r < i);
  }

  private roomForMore(s: St): boolean {
    return this.spec.maxProperties === undefined || s.count < this.spec.maxProperties;
  }

  /** Whether the object may close now. */
  private closable(s: St): boolean {
    return s.count >= this.spec.minProperties && this.required.every((r) => s.seen[r] === '1');
  }

  next(state: number, b: number): number {
    const row = this.table[state]!;
    let t = row[b]!;
    if (t === -2) {
      t = this.compute(this.states[state]!, b);
      row[b] = t;
    }
    return t;
  }

  private compute(s: St, b: number): number {
    const blank = { ...s, ws: 0, trie: -1, pat: [], add: -1, target: -1, filled: -1 };
    switch (s.phase) {
      case O_OPEN:
        return b === 0x7b ? this.intern({ ...blank, phase: O_FIRST }) : -1;
      case O_KEY:
        return this.keyByte(s, b);
      case O_END:
        return -1;
    }
    if (isJsonSpace(b)) return s.ws < this.spec.maxWhitespace ? this.intern({ ...s, ws: s.ws + 1 }) : -1;
    if (b === 0x7d && (s.phase === O_FIRST || s.phase === O_AFTER)) return this.closable(s) ? this.intern({ ...blank, phase: O_END }) : -1;
    if (b === 0x22 && (s.phase === O_FIRST || s.phase === O_NEXT) && this.roomForMore(s)) return this.startKey(blank);
    if (b === 0x2c && s.phase === O_AFTER) return this.roomForMore(s) && this.canAddKey(s) ? this.intern({ ...blank, phase: O_NEXT }) : -1;
    if (b === 0x3a && s.phase === O_COLON) return this.intern({ ...s, phase: O_VALUE, ws: 0 });
    return -1;
  }

  /** Whether some key may still be added (a declared one allowed now, or any other key). */
  private canAddKey(s: St): boolean {
    return this.spec.additional !== null || this.spec.patterns.length > 0 || this.spec.properties.some((_, i) => this.allowed(s, i));
  }

  private startKey(s: St): number {
    const trieNode = this.trieNext[0]!.get(0x22) ?? -1;
    const k: St = { ...s, phase: O_KEY, trie: trieNode, pat: this.spec.patterns.map((p) => p.key.next(p.key.start, 0x22)), add: -1 };
    if (this.spec.additional) k.add = this.spec.additional.key.next(this.spec.additional.key.start, 0x22);
    return this.liveKey(k) ? this.intern(k) : -1;
  }

  private liveKey(k: St): boolean {
    return (k.trie >= 0 && this.trieBelow[k.trie]!.some((i) => this.allowed(k, i))) || k.pat.some((p) => p >= 0) || k.add >= 0;
  }

  private keyByte(s: St, b: number): number {
    const k: St = {
      ...s,
      trie: s.trie >= 0 ? (this.trieNext[s.trie]!.get(b) ?? -1) : -1,
      pat: s.pat.map((p, i) => (p >= 0 ? this.spec.patterns[i]!.key.next(p, b) : -1)),
      add: s.add >= 0 ? this.spec.additional!.key.next(s.add, b) : -1,
    };
    if (!this.liveKey(k)) return -1;
    const declared = k.trie >= 0 ? this.trieEnd[k.trie]! : -1;
    const patterns = k.pat.flatMap((p, i) => (p >= 0 && this.spec.patterns[i]!.key.isFinal(p) ? [i] : []));
    const other = k.add >= 0 && this.spec.additional!.key.isFinal(k.add);
    if (declared < 0 && patterns.length === 0 && !other) return this.intern(k);
    // The closing quote was read: every component has either finished or died. Route the key to its schema.
    const done = { ...k, phase: O_COLON, ws: 0, trie: -1, pat: [], add: -1 };
    // A declared key's schema already includes any matching patternProperties (merged at compile time).
    if (declared >= 0) {
      if (!this.allowed(s, declared)) return -1;
      return this.intern({ ...done, target: this.spec.properties[declared]!.value, filled: declared });
    }
    if (patterns.length === 1) return this.intern({ ...done, target: this.spec.patterns[patterns[0]!]!.value, filled: -1 });
    if (patterns.length > 1 || !other) return -1;
    return this.intern({ ...done, target: this.spec.additional!.value, filled: -1 });
  }

  calls(state: number): readonly number[] {
    let out = this.callCache[state];
    if (out) return out;
    const s = this.states[state]!;
    out = [];
    if (s.phase === O_VALUE) {
      const seen = s.filled >= 0 ? s.seen.slice(0, s.filled) + '1' + s.seen.slice(s.filled + 1) : s.seen;
      const last = s.filled >= 0 && this.spec.order === 'schema' ? s.filled : s.last;
      const cap = Math.max(this.spec.minProperties, this.spec.maxProperties ?? 0);
      const ret = this.intern({ ...s, phase: O_AFTER, seen, last, count: Math.min(s.count + 1, cap), ws: 0, target: -1, filled: -1 });
      out.push(s.target, ret);
    }
    this.callCache[state] = out;
    return out;
  }

  isFinal(state: number): boolean {
    return this.states[state]!.phase === O_END;
  }
}
