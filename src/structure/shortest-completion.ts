import type { Leaf } from './leaf.js';
import { distancesToEnd, exploreLexeme, type LexemeGraph } from './lexeme-graph.js';
import { MachineDistances } from './machine-distances.js';
import type { Runtime } from './runtime.js';
import type { Vocabulary } from './vocabulary.js';

/**
 * Shortest completions over one grammar's parse states, in bytes that the vocabulary has one-byte tokens for — so a
 * length here is also an upper bound on the tokens the completion takes. Everything is memoised by id: a machine's
 * minimum instance, a machine state's distance to a final state (`D(m, s)`), a frame's cost once its callee returns,
 * and a parse set's distance (the least over its configurations of `D(m, s)` plus the frames below). See
 * docs/structure.md, "Valid JSON at any token budget".
 */
export class ShortestCompletion {
  private readonly frameDist: number[] = [0];
  private readonly configDist: number[] = [];
  private readonly setDist: number[] = [];
  private readonly inside: ({ distance: (leafState: number) => number; most: number } | null | undefined)[] = [];
  private readonly leafDistances = new Map<Leaf, { distance: (leafState: number) => number; most: number } | null>();
  private readonly graphs = new Map<Leaf, Map<number, LexemeGraph | null>>();
  private readonly usableByte = new Uint8Array(256);
  /** `D(m, s)` and machine minima (machine-distances.ts), which the parse-set distances here are sums of. */
  private readonly dist: MachineDistances;

  /** @param usable bytes the vocabulary has a one-byte token for; completions use only these */
  constructor(
    readonly runtime: Runtime,
    usable: readonly number[],
  ) {
    for (const b of usable) this.usableByte[b] = 1;
    this.dist = new MachineDistances(runtime.machines, usable);
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
      d = this.dist.ofState(r.cMachine[c]!, r.cState[c]!) + this.ofFrame(r.cFrame[c]!);
      this.configDist[c] = d;
    }
    return d;
  }

  /** What is left once the callee on top of `frame` returns: the caller's return state to its end, and so on down. */
  ofFrame(frame: number): number {
    let d = this.frameDist[frame];
    if (d === undefined) {
      const r = this.runtime;
      d = this.dist.ofState(r.fMachine[frame]!, r.fRet[frame]!) + this.ofFrame(r.fParent[frame]!);
      this.frameDist[frame] = d;
    }
    return d;
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
      known ??= { distance: (y) => this.dist.ofState(m, y), most: Infinity };
    } else if (!view) known = null;
    // A key's end routes to the object's next state: each name's end costs what the object then still needs.
    else known = this.tabulate(view.leaf, view.state, (x) => this.dist.ofState(m, view.resume(x)));
    this.inside[c] = known;
    return known;
  }

  /** Distances to the end from every leaf state reachable from `from`, as a dense table by leaf state. */
  private tabulate(
    leaf: Leaf,
    from: number,
    finalCost: (final: number) => number,
  ): { distance: (leafState: number) => number; most: number } | null {
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
