/** The work budget of regex automata: per automaton and shared by all automata of one request. */

/**
 * Steps of automaton work (NFA nodes built or walked, DFA states and transitions made, states visited by the
 * liveness and distance searches) one pattern may spend over its lifetime. Counting steps rather than time keeps
 * the refusal deterministic; at roughly 10–20 M steps/s on one core of a small server this caps any pattern, refused
 * or accepted, at about 10–20 ms of the event loop. Work already done (cached states and rows) is free. Of the 9,311
 * MaskBench schemas, 9 have a pattern over it (1 M steps would admit 6 of them at ~5× the cost).
 */
export const MAX_REGEX_WORK = 200_000;

/**
 * Steps all the automata built while compiling one request's grammars may spend together (`withRegexBudget`): as
 * much as one pattern, so a request costs no more than its most expensive pattern could.
 */
export const MAX_REQUEST_REGEX_WORK = MAX_REGEX_WORK;

/** The budget shared by every automaton while `withRegexBudget` runs; null outside it. */
let shared: { left: number; total: number } | null = null;

/**
 * Runs `compile` with every regex automaton it builds or explores also charged to one shared budget of `steps`
 * (default `MAX_REQUEST_REGEX_WORK`): a schema with hundreds of patterns, each under its own budget, cannot add up
 * to seconds. The automaton that crosses it throws the same RangeError as one over its own budget (the word
 * `exceeds` is what the compiler turns into a CompileError rather than an unsatisfiable subschema).
 */
export function withRegexBudget<T>(compile: () => T, steps = MAX_REQUEST_REGEX_WORK): T {
  const outer = shared;
  shared = { left: steps, total: steps };
  try {
    return compile();
  } finally {
    shared = outer;
  }
}

/** Counts one automaton's work against its own budget and the request's shared one (`withRegexBudget`). */
export class WorkMeter {
  private work = 0;

  /** @param maxWork refuse (throw RangeError) once this many steps are spent; default `MAX_REGEX_WORK`. */
  constructor(readonly maxWork = MAX_REGEX_WORK) {}

  /** Charges `steps` of work; throws RangeError past a budget (the message says `exceeds`, as size limits do). */
  spend(steps: number): void {
    this.work += steps;
    if (this.work > this.maxWork)
      throw new RangeError(`regex automaton exceeds its work budget of ${this.maxWork} steps`);
    if (shared && (shared.left -= steps) < 0) {
      throw new RangeError(`regex automaton exceeds the work budget its request shares (${shared.total} steps)`);
    }
  }
}
