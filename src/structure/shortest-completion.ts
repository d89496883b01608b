import type { Leaf } from './leaf.js';
import { MinHeap } from './min-heap.js';
import type { Runtime } from './runtime.js';
import type { Vocabulary } from './vocabulary.js';

/** States one search may settle before the state it started from counts as unfinishable (stricter, never looser). */
const SEARCH_CAP = 50_000;
/** Leaf states one inside-bound exploration may visit before the bound is given up (Infinity: exact walks instead). */
const EXPLORE_CAP = 4096;

/** Machines whose minimum is being settled together (a recursive group), with tentative values. */
interface Work {
  list: number[];
  members: Set<number>;
}

/**
 * Shortest completions over one grammar's parse states, in bytes that the vocabulary has one-byte tokens for — so a
 * length here is also an upper bound on the tokens the completion takes. Everything is memoised by id: a machine's
 * minimum instance, a machine state's distance to a final state (`D(m, s)`), a frame's cost once its callee returns,
 * and a parse set's distance (the least over its configurations of `D(m, s)` plus the frames below). See
 * docs/structure.md, "Valid JSON at any token budget".
 */
export class ShortestCompletion {
  private readonly minimum: number[] = [];
  private readonly settled: boolean[] = [];
  private readonly stateDist: (Map<number, number> | undefined)[] = [];
  private readonly frameDist: number[] = [0];
  private readonly configDist: number[] = [];
  private readonly setDist: number[] = [];
  private readonly inside: number[] = [];
  private readonly leafBounds = new Map<Leaf, number>();

  /** @param usable bytes the vocabulary has a one-byte token for; completions use only these */
  constructor(readonly runtime: Runtime, private readonly usable: readonly number[]) {}

  /** Bytes of the shortest way from parse set `set` to a complete document (0: it may end now); Infinity if none. */
  ofSet(set: number): number {
    let d = this.setDist[set];
    if (d === undefined) {
      d = Infinity;
      for (const c of this.runtime.setConfigs[set]!) d = Math.min(d, this.ofConfig(c));
      this.setDist[set] = d;
    }
    return d;
  }

  /** Shortest completion of configuration `c`: its machine's state to a final state, then every frame below. */
  ofConfig(c: number): number {
    let d = this.configDist[c];
    if (d === undefined) {
      const r = this.runtime;
      d = this.ofState(r.cMachine[c]!, r.cState[c]!) + this.ofFrame(r.cFrame[c]!);
      this.configDist[c] = d;
    }
    return d;
  }

  /** What is left once the callee on top of `frame` returns: the caller's return state to its end, and so on down. */
  ofFrame(frame: number): number {
    let d = this.frameDist[frame];
    if (d === undefined) {
      const r = this.runtime;
      d = this.ofState(r.fMachine[frame]!, r.fRet[frame]!) + this.ofFrame(r.fParent[frame]!);
      this.frameDist[frame] = d;
    }
    return d;
  }

  /** `D(m, s)`: shortest bytes from state `s` of machine `m` to one of its final states, calls included. */
  ofState(m: number, s: number): number {
    let memo = this.stateDist[m];
    if (!memo) this.stateDist[m] = memo = new Map();
    return memo.get(s) ?? this.search(m, s, memo, null);
  }

  /** Bytes of the shortest complete instance of machine `m` (Infinity when it has none). */
  minimumOf(m: number): number {
    if (!this.settled[m]) this.settle(m);
    return this.minimum[m]!;
  }

  /**
   * An upper bound on `ofConfig` over every configuration that configuration `c` reaches without leaving the lexeme
   * it reads (a value leaf or an object key): the most a token that stays inside can leave to do. Cached.
   */
  insideBound(c: number): number {
    let d = this.inside[c];
    if (d === undefined) {
      const r = this.runtime;
      const m = r.cMachine[c]!;
      const machine = r.machines[m]!;
      const rest = this.ofFrame(r.cFrame[c]!);
      if (machine.leaf) {
        // Every state of a value leaf is reachable from its start, so one bound per leaf serves all of them.
        let h = this.leafBounds.get(machine.leaf);
        if (h === undefined) this.leafBounds.set(machine.leaf, (h = reachBound(machine.leaf, machine.leaf.start, this.usable, () => 0)));
        d = h + rest;
      } else {
        const view = machine.leafView?.(r.cState[c]!);
        d = view ? reachBound(view.leaf, view.state, this.usable, (x) => this.ofState(m, view.resume(x))) + rest : Infinity;
      }
      this.inside[c] = d;
    }
    return d;
  }

  /** Settles the minimum of `m` and of every machine it needs, iterating to a fixed point (recursion converges). */
  private settle(m: number): void {
    const work: Work = { list: [m], members: new Set([m]) };
    for (;;) {
      let changed = false;
      const before = work.list.length;
      // Callees are discovered after their callers: visiting from the end settles leaves first.
      for (let i = work.list.length - 1; i >= 0; i--) {
        const x = work.list[i]!;
        const d = this.search(x, this.runtime.machines[x]!.start, null, work);
        if (d < (this.minimum[x] ?? Infinity)) {
          this.minimum[x] = d;
          changed = true;
        }
      }
      if (!changed && work.list.length === before) break;
    }
    for (const x of work.list) {
      this.minimum[x] ??= Infinity;
      this.settled[x] = true;
    }
  }

  /** A call's cost: the callee's minimum (tentative inside a fixed-point round, which then records the callee). */
  private calleeCost(callee: number, work: Work | null): number {
    if (this.settled[callee]) return this.minimum[callee]!;
    if (!work) return this.minimumOf(callee);
    if (!work.members.has(callee)) {
      work.members.add(callee);
      work.list.push(callee);
    }
    return this.minimum[callee] ?? Infinity;
  }

  /**
   * Dijkstra over the states of machine `m` from `s`: a byte costs 1, a call costs the callee's minimum. States
   * with a memoised distance end the path there. With `memo`, the states of the path found are memoised (a suffix
   * of a shortest path is shortest); without it (fixed-point rounds, where minima are tentative) nothing is kept.
   */
  private search(m: number, s: number, memo: Map<number, number> | null, work: Work | null): number {
    const machine = this.runtime.machines[m]!;
    const cost = new Map<number, number>([[s, 0]]);
    const parent = new Map<number, number>();
    const heap = new MinHeap();
    heap.push(0, s);
    let best = Infinity;
    let goal = -1;
    let expanded = 0;
    while (heap.size > 0) {
      const [g, x] = heap.pop();
      if (g >= best) break;
      if (g > cost.get(x)!) continue;
      const known = memo?.get(x);
      if (known !== undefined) {
        if (g + known < best) [best, goal] = [g + known, x];
        continue;
      }
      if (machine.isFinal(x)) {
        [best, goal] = [g, x];
        break;
      }
      if (++expanded > SEARCH_CAP) {
        [best, goal] = [Infinity, -1];
        break;
      }
      const relax = (y: number, w: number): void => {
        if (g + w < (cost.get(y) ?? Infinity)) {
          cost.set(y, g + w);
          parent.set(y, x);
          heap.push(g + w, y);
        }
      };
      for (const b of this.usable) {
        const y = machine.next(x, b);
        if (y >= 0) relax(y, 1);
      }
      const calls = machine.calls(x);
      for (let i = 0; i < calls.length; i += 2) {
        const w = this.calleeCost(calls[i]!, work);
        if (w < Infinity) relax(calls[i + 1]!, w);
      }
    }
    if (memo) {
      if (goal < 0) memo.set(s, Infinity);
      for (let y = goal; y >= 0; y = y === s ? -1 : parent.get(y)!) memo.set(y, best - cost.get(y)!);
    }
    return best;
  }
}

/**
 * The most, over the leaf states reachable from `from` (by any bytes), of the shortest usable-byte way to a final
 * state `f` plus `finalCost(f)`. Explores at most EXPLORE_CAP states (Infinity beyond: callers then walk exactly).
 */
function reachBound(leaf: Leaf, from: number, usable: readonly number[], finalCost: (final: number) => number): number {
  const usableByte = new Uint8Array(256);
  for (const b of usable) usableByte[b] = 1;
  const states = [from];
  const index = new Map<number, number>([[from, 0]]);
  const preds: number[][] = [[]];
  for (let i = 0; i < states.length; i++) {
    if (states.length > EXPLORE_CAP) return Infinity;
    for (let b = 0; b < 256; b++) {
      const y = leaf.next(states[i]!, b);
      if (y < 0) continue;
      let j = index.get(y);
      if (j === undefined) {
        index.set(y, (j = states.length));
        states.push(y);
        preds.push([]);
      }
      const p = preds[j]!;
      if (usableByte[b] && p[p.length - 1] !== i) p.push(i);
    }
  }
  // Backwards from the finals (each starting at its own cost), one byte per edge.
  const dist = new Float64Array(states.length).fill(Infinity);
  const heap = new MinHeap();
  states.forEach((x, j) => {
    if (!leaf.isFinal(x)) return;
    dist[j] = finalCost(x);
    if (dist[j]! < Infinity) heap.push(dist[j]!, j);
  });
  while (heap.size > 0) {
    const [g, j] = heap.pop();
    if (g > dist[j]!) continue;
    for (const p of preds[j]!) {
      if (g + 1 < dist[p]!) {
        dist[p] = g + 1;
        heap.push(g + 1, p);
      }
    }
  }
  let most = 0;
  for (const d of dist) most = Math.max(most, d);
  return most;
}

const analyses = new WeakMap<Runtime, Map<string, ShortestCompletion>>();
const usableBytes = new WeakMap<Vocabulary, { key: string; bytes: number[] }>();

/**
 * The bytes `vocab` has a one-byte token for. Byte-level BPE vocabularies (GPT-2, Llama 3, Qwen) have all 256;
 * where some are missing, completions avoid them, so a length in bytes stays an upper bound in tokens.
 */
export function oneByteTokens(vocab: Vocabulary): readonly number[] {
  let u = usableBytes.get(vocab);
  if (!u) {
    const have = new Uint8Array(256);
    for (const t of vocab.tokens) if (t && t.length === 1) have[t[0]!] = 1;
    const bytes = [...have.keys()].filter((b) => have[b] === 1);
    usableBytes.set(vocab, (u = { key: bytes.length === 256 ? 'all' : bytes.join(','), bytes }));
  }
  return u.bytes;
}

/** The shortest-completion analysis of `runtime` for `vocab` (shared by every vocabulary with the same one-byte tokens). */
export function shortestCompletion(runtime: Runtime, vocab: Vocabulary): ShortestCompletion {
  const bytes = oneByteTokens(vocab);
  const key = usableBytes.get(vocab)!.key;
  let byKey = analyses.get(runtime);
  if (!byKey) analyses.set(runtime, (byKey = new Map()));
  let sc = byKey.get(key);
  if (!sc) byKey.set(key, (sc = new ShortestCompletion(runtime, bytes)));
  return sc;
}
