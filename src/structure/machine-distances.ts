import type { Leaf } from './leaf.js';
import { finalsFrom } from './lexeme-graph.js';
import type { Machine } from './machine.js';
import { MinHeap } from './min-heap.js';

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
 * Shortest distances inside the machines of one grammar, in bytes of `usable`: `D(m, s)` from a machine state to
 * one of its final states, calls included, and each machine's minimum instance — settled together by a worklist
 * fixed point where machines call each other. The parse-set view over these is ShortestCompletion
 * (shortest-completion.ts).
 */
export class MachineDistances {
  private readonly minimum: number[] = [];
  private readonly settled: boolean[] = [];
  private readonly stateDist: (Map<number, number> | undefined)[] = [];
  private readonly keyExits = new Map<Leaf, Map<number, number[]>>();

  /** @param usable bytes the vocabulary has a one-byte token for; distances use only these */
  constructor(
    private readonly machines: readonly Machine[],
    private readonly usable: readonly number[],
  ) {}

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
   * Settles the minimum of `m` and of every machine it needs: a worklist fixed point (values only decrease, so
   * recursion converges), last in first out so callees found by a search are settled before it is redone.
   */
  private settle(m: number): void {
    const work: Work = {
      members: [m],
      queue: [m],
      queued: new Set([m]),
      dependents: new Map(),
      current: m,
      blocked: false,
    };
    while (work.queue.length > 0) {
      const x = work.queue.pop()!;
      work.queued.delete(x);
      work.current = x;
      work.blocked = false;
      const d = this.search(x, this.machines[x]!.start, null, work);
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
    const machine = this.machines[m]!;
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
