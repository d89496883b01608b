import type { Leaf } from './leaf.js';
import { distancesToEnd, exploreLexeme, finalsFrom, type LexemeGraph } from './lexeme-graph.js';
import { MinHeap } from './min-heap.js';
import type { Runtime } from './runtime.js';
import type { Vocabulary } from './vocabulary.js';

/** States one search may settle before the state it started from counts as unfinishable (stricter, never looser). */
const SEARCH_CAP = 2048;

/** Machines whose minima are being settled together (tentative values), as a worklist with who uses whom. */
interface Work {
  members: number[];
  queue: number[];
  queued: Set<number>;
  dependents: Map<number, Set<number>>;
  current: number;
  /** Set when the current search met a machine never searched yet: it is redone after that one. */
  blocked: boolean;
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
  private readonly inside: ({ distance: (leafState: number) => number; most: number } | null | undefined)[] = [];
  private readonly leafDistances = new Map<Leaf, { distance: (leafState: number) => number; most: number } | null>();
  private readonly graphs = new Map<Leaf, Map<number, LexemeGraph | null>>();
  private readonly usableByte = new Uint8Array(256);
  private readonly keyExits = new Map<Leaf, Map<number, number[]>>();

  /** @param usable bytes the vocabulary has a one-byte token for; completions use only these */
  constructor(readonly runtime: Runtime, private readonly usable: readonly number[]) {
    for (const b of usable) this.usableByte[b] = 1;
  }

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
   * it reads (a value leaf or an object key): the most a token that stays inside can leave to do.
   */
  insideBound(c: number): number {
    return (this.insideDistances(c)?.most ?? Infinity) + this.ofFrame(this.runtime.cFrame[c]!);
  }

  /**
   * For lexeme configuration `c`: the shortest completion, frames below not counted, from each leaf state it can
   * reach inside the lexeme, and the most of those; null when the lexeme is too large to explore. Cached.
   */
  insideDistances(c: number): { distance: (leafState: number) => number; most: number } | null {
    let known = this.inside[c];
    if (known !== undefined) return known;
    const r = this.runtime;
    const m = r.cMachine[c]!;
    const machine = r.machines[m]!;
    const view = machine.leaf ? null : machine.leafView?.(r.cState[c]!);
    if (machine.leaf) {
      // Every state of a value leaf is reachable from its start: one table per leaf serves all its configurations.
      // Too many states: distances come from searches, and the bound is left to walks of the tokens (Infinity).
      const leaf = machine.leaf;
      known = this.leafDistances.get(leaf);
      if (known === undefined) this.leafDistances.set(leaf, (known = this.tabulate(leaf, leaf.start, () => 0)));
      known ??= { distance: (y) => this.ofState(m, y), most: Infinity };
    } else if (!view) known = null;
    // A key's end routes to the object's next state: each name's end costs what the object then still needs.
    else known = this.tabulate(view.leaf, view.state, (x) => this.ofState(m, view.resume(x)));
    this.inside[c] = known;
    return known;
  }

  /** Distances to the end from every leaf state reachable from `from`, as a dense table by leaf state. */
  private tabulate(leaf: Leaf, from: number, finalCost: (final: number) => number): { distance: (leafState: number) => number; most: number } | null {
    const graph = this.graph(leaf, from);
    if (!graph) return null;
    const dist = distancesToEnd(leaf, graph, finalCost);
    const table = new Float64Array(Math.max(...graph.states) + 1).fill(Infinity);
    graph.states.forEach((x, j) => (table[x] = dist[j]!));
    return { distance: (y) => table[y] ?? Infinity, most: Math.max(...dist) };
  }

  private graph(leaf: Leaf, from: number): LexemeGraph | null {
    let byState = this.graphs.get(leaf);
    if (!byState) this.graphs.set(leaf, (byState = new Map()));
    let g = byState.get(from);
    if (g === undefined) byState.set(from, (g = exploreLexeme(leaf, from, this.usableByte)));
    return g;
  }

  /**
   * Settles the minimum of `m` and of every machine it needs: a worklist fixed point (values only decrease, so
   * recursion converges), last in first out so callees found by a search are settled before it is redone.
   */
  private settle(m: number): void {
    const work: Work = { members: [m], queue: [m], queued: new Set([m]), dependents: new Map(), current: m, blocked: false };
    while (work.queue.length > 0) {
      const x = work.queue.pop()!;
      work.queued.delete(x);
      work.current = x;
      work.blocked = false;
      const d = this.search(x, this.runtime.machines[x]!.start, null, work);
      if (d >= (this.minimum[x] ?? Infinity)) continue;
      this.minimum[x] = d;
      for (const y of work.dependents.get(x) ?? []) this.enqueue(work, y);
    }
    for (const x of work.members) {
      this.minimum[x] ??= Infinity;
      this.settled[x] = true;
    }
  }

  private enqueue(work: Work, x: number): void {
    if (work.queued.has(x)) return;
    work.queued.add(x);
    work.queue.push(x);
  }

  /** A call's cost: the callee's minimum (tentative while settling, where the callee joins the worklist). */
  private calleeCost(callee: number, work: Work | null): number {
    if (this.settled[callee]) return this.minimum[callee]!;
    if (!work) return this.minimumOf(callee);
    let users = work.dependents.get(callee);
    if (!users && callee !== work.current) {
      // A search that went on with this callee unknown could explore every detour it has: stop, settle the
      // callee first, then redo this one (queued under it, so it runs after).
      work.dependents.set(callee, (users = new Set()));
      work.members.push(callee);
      work.blocked = true;
      this.enqueue(work, work.current);
      this.enqueue(work, callee);
    }
    users?.add(work.current);
    return this.minimum[callee] ?? Infinity;
  }

  /**
   * Inside an object key the machine mirrors its key leaf: the search jumps from the key's state straight to where
   * each reachable name ends (cached per leaf state), instead of settling a machine state per name prefix.
   */
  private keyEnds(leaf: Leaf, from: number): number[] {
    let byState = this.keyExits.get(leaf);
    if (!byState) this.keyExits.set(leaf, (byState = new Map()));
    let ends = byState.get(from);
    if (!ends) byState.set(from, (ends = finalsFrom(leaf, from, this.usable)));
    return ends;
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
      const view = machine.leafView?.(x);
      if (view) {
        const ends = this.keyEnds(view.leaf, view.state);
        for (let i = 0; i < ends.length; i += 2) relax(view.resume(ends[i]!), ends[i + 1]!);
        continue;
      }
      for (const b of this.usable) {
        const y = machine.next(x, b);
        if (y >= 0) relax(y, 1);
      }
      const calls = machine.calls(x);
      for (let i = 0; i < calls.length; i += 2) {
        const w = this.calleeCost(calls[i]!, work);
        if (w < Infinity) relax(calls[i + 1]!, w);
      }
      if (work?.blocked) return Infinity;
    }
    if (memo) {
      if (goal < 0) memo.set(s, Infinity);
      for (let y = goal; y >= 0; y = y === s ? -1 : parent.get(y)!) memo.set(y, best - cost.get(y)!);
    }
    return best;
  }
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
