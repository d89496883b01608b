import { MatcherError } from './errors.js';
import type { Leaf } from './leaf.js';
import type { Limits } from './limits.js';
import type { Machine } from './machine.js';

/** A lexeme in progress: its leaf, the leaf's state, and the parse set once the lexeme has ended (DEAD if none). */
export interface Lexeme {
  leaf: Leaf;
  state: number;
  after(final: number): number;
}

/** Set id 0 is the empty set: a dead parse. */
export const DEAD = 0;

/**
 * The interned parse state space of one grammar: parse stacks (frames), configurations (machine, state, stack) and
 * closed configuration sets, each by a dense id. It knows how sets are made and what lexeme a configuration reads;
 * stepping on bytes and token masks are the Runtime's (runtime.ts), which extends it so the hot paths read these
 * arrays directly.
 */
export class ParseSpace {
  // Frames, configurations and sets by id: read (never written) by the budget analyses (shortest-completion.ts).
  readonly fMachine: number[] = [-1];
  readonly fRet: number[] = [-1];
  readonly fParent: number[] = [-1];
  private readonly fDepth: number[] = [0];
  private readonly frameIds = new Map<string, number>();
  readonly cMachine: number[] = [];
  readonly cState: number[] = [];
  readonly cFrame: number[] = [];
  private readonly configIds = new Map<string, number>();
  readonly setConfigs: Int32Array[] = [new Int32Array(0)];
  private readonly setIds = new Map<string, number>([['', 0]]);
  protected readonly setAccepting: boolean[] = [false];
  private readonly structural: number[] = [];
  private readonly returnSets = new Map<number, number>();
  private readonly lexemes: (Lexeme | null | undefined)[] = [];
  /** Set id of the initial state. */
  readonly initial: number;

  constructor(
    readonly machines: readonly Machine[],
    root: number,
    private readonly limits: Limits,
  ) {
    this.initial = this.closure([this.config(root, machines[root]!.start, 0)]);
  }

  /** Whether the document may end in this set (a root-level final state). */
  isAccepting(set: number): boolean {
    return this.setAccepting[set]!;
  }

  /** The lexeme configuration `c` is reading (a leaf machine or a leaf view), or null; cached per configuration. */
  lexemeOf(c: number): Lexeme | null {
    let lexeme = this.lexemes[c];
    if (lexeme !== undefined) return lexeme;
    const m = this.cMachine[c]!;
    const machine = this.machines[m]!;
    const frame = this.cFrame[c]!;
    const view = machine.leaf ? null : (machine.leafView?.(this.cState[c]!) ?? null);
    const afterSets = new Map<number, number>();
    // Once the lexeme is complete the parse goes on where the leaf view resumes, or in the caller's frame (at the
    // root, nothing may follow).
    const after = (final: number): number => {
      let id = afterSets.get(final);
      if (id === undefined) {
        id = view
          ? this.closure([this.config(m, view.resume(final), frame)])
          : frame === 0
            ? DEAD
            : this.returnSet(frame);
        afterSets.set(final, id);
      }
      return id;
    };
    if (machine.leaf) lexeme = { leaf: machine.leaf, state: this.cState[c]!, after };
    else if (view) lexeme = { leaf: view.leaf, state: view.state, after };
    else lexeme = null;
    this.lexemes[c] = lexeme;
    return lexeme;
  }

  /** The configurations of `set` outside leaves and leaf views, as a set of their own (those use lexeme caches). */
  structuralPart(set: number, lexical: Set<number>): number {
    let id = this.structural[set];
    if (id === undefined) {
      const keep = [...this.setConfigs[set]!].filter((c) => !lexical.has(c));
      id = this.intern(keep);
      this.structural[set] = id;
    }
    return id;
  }

  /** Where the parse continues when the lexeme on top of `frame` ends. */
  private returnSet(frame: number): number {
    let id = this.returnSets.get(frame);
    if (id === undefined) {
      id = this.closure([this.config(this.fMachine[frame]!, this.fRet[frame]!, this.fParent[frame]!)]);
      this.returnSets.set(frame, id);
    }
    return id;
  }

  private frame(parent: number, machine: number, ret: number): number {
    const key = `${parent},${machine},${ret}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.fMachine.length;
      this.fMachine.push(machine);
      this.fRet.push(ret);
      this.fParent.push(parent);
      this.fDepth.push(this.fDepth[parent]! + 1);
      this.frameIds.set(key, id);
    }
    return id;
  }

  protected config(machine: number, state: number, frame: number): number {
    const key = `${machine},${state},${frame}`;
    let id = this.configIds.get(key);
    if (id === undefined) {
      id = this.cMachine.length;
      this.cMachine.push(machine);
      this.cState.push(state);
      this.cFrame.push(frame);
      this.configIds.set(key, id);
    }
    return id;
  }

  /** Adds everything reachable by calls and returns without reading a byte, and interns the result. */
  protected closure(seeds: number[]): number {
    const out = new Set<number>();
    const stack = seeds;
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (out.has(c)) continue;
      out.add(c);
      const m = this.cMachine[c]!;
      const s = this.cState[c]!;
      const f = this.cFrame[c]!;
      const machine = this.machines[m]!;
      const calls = machine.calls(s);
      // A stack deeper than the limit is dropped rather than followed: stricter, never looser.
      if (calls.length > 0 && this.fDepth[f]! < this.limits.maxStackDepth) {
        for (let i = 0; i < calls.length; i += 2) {
          const callee = calls[i]!;
          stack.push(this.config(callee, this.machines[callee]!.start, this.frame(f, m, calls[i + 1]!)));
        }
      }
      if (f !== 0 && machine.isFinal(s)) stack.push(this.config(this.fMachine[f]!, this.fRet[f]!, this.fParent[f]!));
    }
    if (out.size > this.limits.maxParallelStacks)
      throw new MatcherError(`more than ${this.limits.maxParallelStacks} parallel parse stacks`);
    return this.intern([...out]);
  }

  private intern(configs: number[]): number {
    configs.sort((a, b) => a - b);
    const key = configs.join(',');
    let id = this.setIds.get(key);
    if (id === undefined) {
      id = this.setConfigs.length;
      this.setConfigs.push(Int32Array.from(configs));
      this.setAccepting.push(
        configs.some((c) => this.cFrame[c] === 0 && this.machines[this.cMachine[c]!]!.isFinal(this.cState[c]!)),
      );
      this.setIds.set(key, id);
    }
    return id;
  }
}
