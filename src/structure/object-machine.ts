import type { Leaf } from './leaf.js';
import { KeyLeaf, type KeyTable } from './key-leaf.js';
import { isJsonSpace, type LeafView, type Machine } from './machine.js';
import { TypedPool } from './typed-pool.js';

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
  /** Per declared property, the declared indices its presence makes required (transitively: `dependentRequired`). */
  dependencies: readonly (readonly number[])[];
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
  /** Key lexing: the key leaf's state; -1 outside keys. */
  ks: number;
  /** Value machine to call, and the declared index it fills (-1 for pattern/additional). */
  target: number;
  filled: number;
}

/** `s` with the per-member fields cleared (whitespace run, key lexing, value target). */
function blank(s: St): St {
  return { ...s, ws: 0, ks: -1, target: -1, filled: -1 };
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
  private readonly pool = new TypedPool();
  private readonly callCache: (number[] | undefined)[] = [];
  private readonly trieNext: Map<number, number>[] = [new Map()];
  private readonly trieEnd: number[] = [-1];
  /** Declared indices reachable below each trie node. */
  private readonly trieBelow: number[][] = [[]];
  private readonly required: number[];
  private readonly hasDependencies: boolean;
  /** Declared properties after index i that may appear (schema order: what can still follow i). */
  private readonly usableAfter: number[];
  private readonly keyTable: KeyTable;
  private readonly keyLeaf: KeyLeaf;

  constructor(
    private readonly spec: ObjectSpec,
    private readonly maxStates: number,
  ) {
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
    this.hasDependencies = spec.dependencies.some((d) => d.length > 0);
    this.usableAfter = spec.properties.map((_, i) => spec.properties.filter((p, j) => j > i && p.value >= 0).length);
    this.keyTable = {
      trieNext: this.trieNext,
      trieEnd: this.trieEnd,
      trieBelow: this.trieBelow,
      patterns: spec.patterns.map((p) => p.key),
      additional: spec.additional ? spec.additional.key : null,
    };
    this.keyLeaf = new KeyLeaf(this.keyTable, maxStates);
    const none = '0'.repeat(spec.properties.length);
    this.intern({ phase: O_OPEN, seen: none, last: -1, count: 0, ws: 0, ks: -1, target: -1, filled: -1 });
  }

  private intern(s: St): number {
    const key = `${s.phase}|${s.seen}|${s.last}|${s.count}|${s.ws}|${s.ks}|${s.target}|${s.filled}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.states.length;
      this.ids.set(key, id);
      this.states.push(s);
      this.table.push(this.pool.int32Array(256, -2));
    }
    return id;
  }

  /**
   * Whether declared property i may come next: not present yet, with a value, its dependencies still addable (in
   * schema order: none of them before it and still missing), and in schema order not skipping a property that is
   * required now (by `required` or by a present property's dependencies).
   */
  private allowed(s: St, i: number): boolean {
    if (s.seen[i] === '1' || this.spec.properties[i]!.value < 0) return false;
    const deps = this.spec.dependencies[i] ?? [];
    if (
      deps.some(
        (d) => s.seen[d] !== '1' && (this.spec.properties[d]!.value < 0 || (this.spec.order === 'schema' && d < i)),
      )
    )
      return false;
    if (this.spec.order === 'any') return true;
    if (i <= s.last) return false;
    // With only declared keys, taking i must leave enough declared ones after it to reach minProperties.
    if (
      this.spec.additional === null &&
      this.spec.patterns.length === 0 &&
      s.count + 1 + this.usableAfter[i]! < this.spec.minProperties
    )
      return false;
    return !this.requiredNow(s).some((r) => s.seen[r] !== '1' && r > s.last && r < i);
  }

  /** Declared indices required in state s: `required` and the dependencies of every present property. */
  private requiredNow(s: St): readonly number[] {
    if (!this.hasDependencies) return this.required;
    const out = [...this.required];
    for (let i = 0; i < s.seen.length; i++) if (s.seen[i] === '1') out.push(...(this.spec.dependencies[i] ?? []));
    return out;
  }

  private roomForMore(s: St): boolean {
    return this.spec.maxProperties === undefined || s.count < this.spec.maxProperties;
  }

  /** Whether the object may close now. */
  private closable(s: St): boolean {
    return s.count >= this.spec.minProperties && this.requiredNow(s).every((r) => s.seen[r] === '1');
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
    switch (s.phase) {
      case O_OPEN:
        return b === 0x7b ? this.intern({ ...blank(s), phase: O_FIRST }) : -1;
      case O_KEY:
        return this.keyByte(s, b);
      case O_END:
        return -1;
    }
    if (isJsonSpace(b)) return s.ws < this.spec.maxWhitespace ? this.intern({ ...s, ws: s.ws + 1 }) : -1;
    if (b === 0x7d && (s.phase === O_FIRST || s.phase === O_AFTER))
      return this.closable(s) ? this.intern({ ...blank(s), phase: O_END }) : -1;
    if (b === 0x22 && (s.phase === O_FIRST || s.phase === O_NEXT) && this.roomForMore(s))
      return this.startKey(blank(s));
    if (b === 0x2c && s.phase === O_AFTER)
      return this.roomForMore(s) && this.canAddKey(s) ? this.intern({ ...blank(s), phase: O_NEXT }) : -1;
    if (b === 0x3a && s.phase === O_COLON) return this.intern({ ...s, phase: O_VALUE, ws: 0 });
    return -1;
  }

  /** Whether some key may still be added (a declared one allowed now, or any other key). */
  private canAddKey(s: St): boolean {
    return (
      this.spec.additional !== null ||
      this.spec.patterns.length > 0 ||
      this.spec.properties.some((_, i) => this.allowed(s, i))
    );
  }

  private startKey(s: St): number {
    const start = this.keyLeaf.startFor(this.spec.properties.map((_, i) => this.allowed(s, i)));
    const ks = this.keyLeaf.next(start, 0x22);
    return ks < 0 ? -1 : this.intern({ ...s, phase: O_KEY, ks });
  }

  private keyByte(s: St, b: number): number {
    const ks = this.keyLeaf.next(s.ks, b);
    if (ks < 0) return -1;
    return this.keyLeaf.isFinal(ks) ? this.routed(s, ks) : this.intern({ ...s, ks });
  }

  /** The state after a finished key: before `:`, with the value machine chosen by the key. */
  private routed(s: St, ks: number): number {
    const route = this.keyLeaf.route(ks);
    const done = { ...s, phase: O_COLON, ws: 0, ks: -1 };
    if (route.kind === 'declared')
      return this.intern({ ...done, target: this.spec.properties[route.index]!.value, filled: route.index });
    const value = route.kind === 'pattern' ? this.spec.patterns[route.index]!.value : this.spec.additional!.value;
    return value < 0 ? -1 : this.intern({ ...done, target: value, filled: -1 });
  }

  /** Inside a key the machine is its key leaf: lets the matcher use cached lexeme masks (see Machine.leafView). */
  leafView(state: number): LeafView | null {
    const s = this.states[state]!;
    if (s.phase !== O_KEY) return null;
    return { leaf: this.keyLeaf, state: s.ks, resume: (final) => this.routed(s, final) };
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
      const ret = this.intern({
        ...s,
        phase: O_AFTER,
        seen,
        last,
        count: Math.min(s.count + 1, cap),
        ws: 0,
        target: -1,
        filled: -1,
      });
      out.push(s.target, ret);
    }
    this.callCache[state] = out;
    return out;
  }

  isFinal(state: number): boolean {
    return this.states[state]!.phase === O_END;
  }
}
