import type { Leaf } from './leaf.js';
import type { Machine } from './machine.js';

/**
 * An explicitly built machine (all states created up front): literal byte paths, calls and final states. Used for
 * fixed wrappers such as tool-call syntax, where states are few and known at compile time.
 */
export class StaticMachine implements Machine {
  readonly leaf: Leaf | null = null;
  readonly start = 0;
  private readonly trans: Int32Array[] = [];
  private readonly callList: number[][] = [];
  private readonly finals: boolean[] = [];

  constructor() {
    this.state();
  }

  /** A new state. */
  state(): number {
    this.trans.push(new Int32Array(256).fill(-1));
    this.callList.push([]);
    this.finals.push(false);
    return this.trans.length - 1;
  }

  /** Byte edge; an existing edge to another state is a conflict (the machine must stay deterministic). */
  edge(from: number, b: number, to: number): void {
    const row = this.trans[from]!;
    if (row[b] !== -1 && row[b] !== to) throw new RangeError(`conflicting edges on byte ${b} from state ${from}`);
    row[b] = to;
  }

  /** Adds the path `bytes` from `from`, sharing existing edges; ends at `to` if given. Returns the end state. */
  literal(from: number, bytes: Uint8Array, to?: number): number {
    let s = from;
    bytes.forEach((b, i) => {
      const last = i === bytes.length - 1;
      const existing = this.trans[s]![b]!;
      if (last && to !== undefined) this.edge(s, b, to);
      else if (existing === -1) this.edge(s, b, this.state());
      s = this.trans[s]![b]!;
    });
    if (bytes.length === 0 && to !== undefined && to !== from)
      throw new RangeError('an empty literal cannot join two states');
    return s;
  }

  /** From `from`, call machine `callee`, continuing at `ret`. */
  call(from: number, callee: number, ret: number): void {
    this.callList[from]!.push(callee, ret);
  }

  /** Marks a state final. */
  setFinal(state: number): void {
    this.finals[state] = true;
  }

  next(state: number, b: number): number {
    return this.trans[state]![b]!;
  }

  calls(state: number): readonly number[] {
    return this.callList[state]!;
  }

  isFinal(state: number): boolean {
    return this.finals[state]!;
  }
}
