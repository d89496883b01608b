/**
 * One heavy step per event-loop turn. Work that is bounded but not small (parsing a large JSON body, compiling a
 * request's schemas) is cheap enough for one turn, but many requests doing theirs in the same turn would add up:
 * `setImmediate` callbacks queued together all run in one check phase, before any pending I/O (a `/health` probe,
 * another client's request) is looked at again. Callers of `nextLoopTurn` resume one per turn, in arrival order,
 * with the poll phase in between.
 */

let last: Promise<void> = Promise.resolve();

/** Resolves in an event-loop turn of its own: after the previous caller's turn, and after pending I/O has run. */
export function nextLoopTurn(): Promise<void> {
  const turn = last.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  last = turn;
  return turn;
}
