import { CompileError, MatcherError } from './errors.js';
import type { Limits } from './limits.js';
import type { Machine } from './machine.js';
import { Runtime } from './runtime.js';

/**
 * A compiled grammar: the machines of a recursive transition network and its root. Immutable and vocabulary
 * independent; share one across requests (its parse-state caches are shared too). Create matchers from it.
 */
export class Grammar {
  /** Parse-state space shared by every matcher of this grammar. */
  readonly runtime: Runtime;

  private constructor(
    /** The machines; ids index this array. */
    readonly machines: readonly Machine[],
    /** Id of the root machine. */
    readonly root: number,
    /** Limits the matchers run under. */
    readonly limits: Limits,
  ) {
    this.runtime = new Runtime(machines, root, limits);
  }

  /** Wraps machines into a grammar; a root that cannot start without unbounded recursion is a CompileError. */
  static create(machines: readonly Machine[], root: number, limits: Limits): Grammar {
    try {
      return new Grammar(machines, root, limits);
    } catch (e) {
      if (e instanceof MatcherError) throw new CompileError('$ref', '', `grammar cannot start: ${e.message}`);
      throw e;
    }
  }
}
