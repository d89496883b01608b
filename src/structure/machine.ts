import type { Leaf } from './leaf.js';

/**
 * One node of the grammar's recursive transition network: a deterministic automaton over bytes whose states may
 * also *call* other machines (push; the callee returns to `ret` when it reaches a final state). Nondeterminism lives
 * only in calls and returns, which the matcher tracks as a set of parse stacks. States are small integers created
 * lazily; every state of a machine must be able to reach a final state (no dead ends).
 */
export interface Machine {
  /** Set when the machine is a lexeme leaf (no calls), enabling the per-leaf-state mask cache. */
  readonly leaf: Leaf | null;
  /** The initial state. */
  readonly start: number;
  /** State after byte `b` within this machine, or -1. */
  next(state: number, b: number): number;
  /** Calls made from `state`, flattened as [callee, returnState, callee, returnState, …]. */
  calls(state: number): readonly number[];
  /** Whether the machine may end (return) in `state`. */
  isFinal(state: number): boolean;
  /** Optional: states that behave exactly like a leaf until it finishes (object keys), for lexeme mask caching. */
  leafView?(state: number): LeafView | null;
}

/**
 * From this machine state on, bytes are read by `leaf` from `state` (the machine's transitions mirror the leaf's);
 * once the leaf reaches final state f, the machine is in state `resume(f)`.
 */
export interface LeafView {
  leaf: Leaf;
  state: number;
  resume(final: number): number;
}

const NO_CALLS: readonly number[] = Object.freeze([]);

/** A lexeme leaf as a machine. */
export class LeafMachine implements Machine {
  readonly start: number;
  constructor(readonly leaf: Leaf) {
    this.start = leaf.start;
  }
  next(state: number, b: number): number {
    return this.leaf.next(state, b);
  }
  calls(): readonly number[] {
    return NO_CALLS;
  }
  isFinal(state: number): boolean {
    return this.leaf.isFinal(state);
  }
}

/** `anyOf`: state 0 calls every alternative, each returning to the final state 1. */
export class UnionMachine implements Machine {
  readonly leaf = null;
  readonly start = 0;
  private readonly edges: number[];
  constructor(alternatives: readonly number[]) {
    this.edges = alternatives.flatMap((m) => [m, 1]);
  }
  next(): number {
    return -1;
  }
  calls(state: number): readonly number[] {
    return state === 0 ? this.edges : NO_CALLS;
  }
  isFinal(state: number): boolean {
    return state === 1;
  }
}

/** JSON whitespace bytes. */
export function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;
}

/** What an array must hold. Machine ids refer to the same grammar. */
export interface ArraySpec {
  /** Machines for the leading positional items (`prefixItems`, or tuple `items`). */
  prefix: readonly number[];
  /** Machine for the remaining items, or null when none are allowed. */
  items: number | null;
  minItems: number;
  /** undefined = unbounded. */
  maxItems: number | undefined;
  /** Most whitespace bytes allowed between tokens (0 = compact). */
  maxWhitespace: number;
}

const A_OPEN = 0;
const A_FIRST = 1; // after `[`
const A_ITEM = 2; // calls the item machine
const A_AFTER = 3; // after an item
const A_END = 4;

/**
 * `[item, item, …]` with positional and counted items. State = (phase, items so far capped past where the count
 * matters, whitespace run), packed into one integer.
 */
export class ArrayMachine implements Machine {
  readonly leaf = null;
  readonly start = 0;
  private readonly cap: number;
  private readonly callCache = new Map<number, number[]>();

  constructor(private readonly spec: ArraySpec) {
    this.cap = Math.max(spec.prefix.length, spec.minItems, spec.maxItems ?? 0) + 1;
  }

  private pack(phase: number, count: number, ws: number): number {
    return (Math.min(count, this.cap) * 5 + phase) * (this.spec.maxWhitespace + 1) + ws;
  }

  private unpack(state: number): [number, number, number] {
    const w = this.spec.maxWhitespace + 1;
    const ws = state % w;
    const rest = (state - ws) / w;
    return [rest % 5, Math.floor(rest / 5), ws];
  }

  /** Whether another item may follow `count` items. */
  private canAdd(count: number): boolean {
    const { prefix, items, maxItems } = this.spec;
    return (maxItems === undefined || count < maxItems) && (count < prefix.length || items !== null);
  }

  next(state: number, b: number): number {
    const [phase, count, ws] = this.unpack(state);
    const { maxWhitespace, minItems } = this.spec;
    if (phase === A_OPEN) return b === 0x5b ? this.pack(A_FIRST, 0, 0) : -1;
    if (phase === A_END) return -1;
    if (isJsonSpace(b)) return ws < maxWhitespace ? this.pack(phase, count, ws + 1) : -1;
    if (b === 0x5d)
      return (phase === A_FIRST || phase === A_AFTER) && count >= minItems ? this.pack(A_END, count, 0) : -1;
    if (b === 0x2c && phase === A_AFTER && this.canAdd(count)) return this.pack(A_ITEM, count, 0);
    return -1;
  }

  calls(state: number): readonly number[] {
    let out = this.callCache.get(state);
    if (out) return out;
    const [phase, count] = this.unpack(state);
    out = [];
    if ((phase === A_FIRST || phase === A_ITEM) && this.canAdd(count)) {
      const callee = count < this.spec.prefix.length ? this.spec.prefix[count]! : this.spec.items!;
      out.push(callee, this.pack(A_AFTER, count + 1, 0));
    }
    this.callCache.set(state, out);
    return out;
  }

  isFinal(state: number): boolean {
    return this.unpack(state)[0] === A_END;
  }
}
