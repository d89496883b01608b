import type { Leaf } from './leaf.js';
import { MinHeap } from './min-heap.js';

/** Leaf states one exploration may visit before it is given up (callers then fall back to exact walks). */
const EXPLORE_CAP = 4096;
/**
 * Transitions one exploration may compute. Kept small because some leaves make costly states on paths no token
 * takes (a number's exponent digits grow a BigInt power with each one): breadth-first, the cap stops short of them.
 */
const EXPLORE_STEPS = 32_768;

/** The leaf states reachable from one state by any bytes, with the reverse edges on one-byte-token bytes. */
export interface LexemeGraph {
  states: number[];
  index: Map<number, number>;
  preds: number[][];
}

/** Explores `leaf` from `from`; null when more than EXPLORE_CAP states are reachable. */
export function exploreLexeme(leaf: Leaf, from: number, usableByte: Uint8Array): LexemeGraph | null {
  const states = [from];
  const index = new Map<number, number>([[from, 0]]);
  const preds: number[][] = [[]];
  for (let i = 0; i < states.length; i++) {
    if (states.length > EXPLORE_CAP || i * 256 > EXPLORE_STEPS) return null;
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
  return { states, index, preds };
}

/**
 * For every state of `graph`, the shortest way (one-byte-token bytes) to a final state `f` plus `finalCost(f)`:
 * backwards from the finals, each starting at its own cost, one byte per edge.
 */
export function distancesToEnd(leaf: Leaf, graph: LexemeGraph, finalCost: (final: number) => number): Float64Array {
  const dist = new Float64Array(graph.states.length).fill(Infinity);
  const heap = new MinHeap();
  graph.states.forEach((x, j) => {
    if (!leaf.isFinal(x)) return;
    dist[j] = finalCost(x);
    if (dist[j]! < Infinity) heap.push(dist[j]!, j);
  });
  while (heap.size > 0) {
    const [g, j] = heap.pop();
    if (g > dist[j]!) continue;
    for (const p of graph.preds[j]!) {
      if (g + 1 < dist[p]!) {
        dist[p] = g + 1;
        heap.push(g + 1, p);
      }
    }
  }
  return dist;
}

/** The final states reachable from `from` on one-byte-token bytes, with their distances: [final, bytes, …]. */
export function finalsFrom(leaf: Leaf, from: number, usable: readonly number[]): number[] {
  const out: number[] = [];
  const dist = new Map<number, number>([[from, 0]]);
  const queue = [from];
  for (let i = 0; i < queue.length && i < EXPLORE_CAP; i++) {
    const x = queue[i]!;
    if (leaf.isFinal(x)) out.push(x, dist.get(x)!);
    for (const b of usable) {
      const y = leaf.next(x, b);
      if (y >= 0 && !dist.has(y)) {
        dist.set(y, dist.get(x)! + 1);
        queue.push(y);
      }
    }
  }
  return out;
}
