import type { SchemaBuilder } from './schema-builder.js';
import { tryBuild } from './compile-parts.js';
import { notConst } from './conditional.js';
import { CompileError, childPointer } from './errors.js';
import { isJsonSpace, type Machine } from './machine.js';
import { Unsatisfiable, type SchemaObject } from './schema-merge.js';

/** What a counted array holds: each item either matches `contains` (`hit`) or provably does not (`miss`). */
export interface ContainsSpec {
  /** Machine for an item that matches `contains` (and `items`), or -1 when none can. */
  hit: number;
  /** Machine for an item that does not match `contains` (and matches `items`), or -1 when none can. */
  miss: number;
  minItems: number;
  maxItems: number | undefined;
  minContains: number;
  maxContains: number | undefined;
  maxWhitespace: number;
}

const OPEN = 0;
const FIRST = 1;
const ITEM = 2;
const AFTER = 3;
const END = 4;

/**
 * `[item,…]` counting the items that match `contains`: every item is read by exactly one of two machines, for
 * `items ∧ contains` and for `items ∧ ¬contains`, so the count is exact. An item (or the end) is offered only when
 * the counts can still reach `minContains`…`maxContains` and `minItems`…`maxItems` afterwards, so the array never
 * paints itself into a corner.
 */
export class ContainsArrayMachine implements Machine {
  readonly leaf = null;
  readonly start = 0;
  private readonly countCap: number;
  private readonly hitCap: number;
  private readonly callCache = new Map<number, number[]>();

  constructor(private readonly spec: ContainsSpec) {
    this.countCap = Math.max(spec.minItems, spec.maxItems ?? 0, spec.minContains) + 1;
    this.hitCap = Math.max(spec.minContains, spec.maxContains ?? 0) + 1;
    if (!this.reachable(0, 0)) throw new Unsatisfiable('contains counts and item counts cannot both be met');
  }

  private pack(phase: number, count: number, hits: number, ws: number): number {
    const c = Math.min(count, this.countCap);
    const h = Math.min(hits, this.hitCap);
    return ((c * (this.hitCap + 1) + h) * 5 + phase) * (this.spec.maxWhitespace + 1) + ws;
  }

  private unpack(state: number): [phase: number, count: number, hits: number, ws: number] {
    const w = this.spec.maxWhitespace + 1;
    const ws = state % w;
    let rest = (state - ws) / w;
    const phase = rest % 5;
    rest = (rest - phase) / 5;
    const hits = rest % (this.hitCap + 1);
    return [phase, (rest - hits) / (this.hitCap + 1), hits, ws];
  }

  /** Whether some number of further hit and miss items leads from (count, hits) to an array that may close. */
  private reachable(count: number, hits: number): boolean {
    const { hit, miss, minItems, maxItems, minContains, maxContains } = this.spec;
    if (maxContains !== undefined && hits > maxContains) return false;
    if (maxItems !== undefined && count > maxItems) return false;
    const moreHits = hit < 0 ? 0 : maxContains === undefined ? Infinity : maxContains - hits;
    const needHits = Math.max(0, minContains - hits);
    if (needHits > moreHits) return false;
    const room = maxItems === undefined ? Infinity : maxItems - count;
    if (needHits > room) return false;
    // Fill up to minItems with misses, or with hits while they last.
    const fill = Math.max(0, minItems - count - needHits);
    const spare = (miss >= 0 ? Infinity : 0) + (moreHits - needHits);
    return fill <= Math.min(spare, room - needHits);
  }

  next(state: number, b: number): number {
    const [phase, count, hits, ws] = this.unpack(state);
    if (phase === OPEN) return b === 0x5b ? this.pack(FIRST, 0, 0, 0) : -1;
    if (phase === END) return -1;
    if (isJsonSpace(b)) return ws < this.spec.maxWhitespace ? this.pack(phase, count, hits, ws + 1) : -1;
    if (b === 0x5d)
      return (phase === FIRST || phase === AFTER) && this.closable(count, hits) ? this.pack(END, count, hits, 0) : -1;
    if (b === 0x2c && phase === AFTER && this.itemCalls(count, hits).length > 0) return this.pack(ITEM, count, hits, 0);
    return -1;
  }

  private closable(count: number, hits: number): boolean {
    return count >= this.spec.minItems && hits >= this.spec.minContains;
  }

  /** [callee, return state] pairs for the next item. */
  private itemCalls(count: number, hits: number): number[] {
    const out: number[] = [];
    if (this.spec.hit >= 0 && this.reachable(count + 1, hits + 1))
      out.push(this.spec.hit, this.pack(AFTER, count + 1, hits + 1, 0));
    if (this.spec.miss >= 0 && this.reachable(count + 1, hits))
      out.push(this.spec.miss, this.pack(AFTER, count + 1, hits, 0));
    return out;
  }

  calls(state: number): readonly number[] {
    let out = this.callCache.get(state);
    if (out) return out;
    const [phase, count, hits] = this.unpack(state);
    out = phase === FIRST || phase === ITEM ? this.itemCalls(count, hits) : [];
    this.callCache.set(state, out);
    return out;
  }

  isFinal(state: number): boolean {
    return this.unpack(state)[0] === END;
  }
}

const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'];

/** The exact complement of a `contains` schema of the forms enforced: a scalar `const` (or one-member enum), or types. */
function complement(c: unknown, at: string): unknown {
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    throw new CompileError('contains', at, 'contains is enforced for a const or a type only');
  const s = c as SchemaObject;
  const keys = Object.keys(s);
  const literal =
    keys.length === 1 && keys[0] === 'const'
      ? s.const
      : keys.length === 1 && keys[0] === 'enum' && Array.isArray(s.enum) && s.enum.length === 1
        ? (s.enum as unknown[])[0]
        : undefined;
  if (literal !== undefined && (literal === null || typeof literal !== 'object')) return notConst(literal);
  if (keys.length === 1 && keys[0] === 'type') {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    // Numbers that are not integers have no grammar here (the same limit as not {type: integer}).
    if (types.includes('integer') && !types.includes('number'))
      throw new CompileError('contains', at, 'the complement of integer among numbers has no exact grammar here');
    return { type: TYPES.filter((t) => !types.includes(t) && !(t === 'integer' && types.includes('number'))) };
  }
  throw new CompileError(
    'contains',
    at,
    'contains is enforced for a const or a type only (its complement must be exact)',
  );
}

/** A counted array for `contains` with `minContains`/`maxContains`, over `items` (prefixItems beside it are refused). */
export function buildContainsArray(builder: SchemaBuilder, s: SchemaObject, pointer: string, ws: number): number {
  if (Object.hasOwn(s, 'prefixItems'))
    throw new CompileError('contains', pointer, 'contains beside prefixItems is not enforced by the decoder');
  if (s.uniqueItems === true)
    throw new CompileError('uniqueItems', pointer, 'uniqueness across items is not enforced by the decoder');
  const at = childPointer(pointer, 'contains');
  const items = s.items ?? true;
  const hit = tryBuild(builder, { allOf: [items, s.contains] }, at);
  const miss = tryBuild(builder, { allOf: [items, complement(s.contains, at)] }, at);
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  return builder.add(
    new ContainsArrayMachine({
      hit,
      miss,
      minItems: num(s.minItems) ?? 0,
      maxItems: num(s.maxItems),
      minContains: num(s.minContains) ?? 1,
      maxContains: num(s.maxContains),
      maxWhitespace: ws,
    }),
  );
}
