/**
 * OpenAI's cursor pagination, for every list endpoint: `?after=<id>&limit=<n>` in, `{object: 'list', data, has_more,
 * first_id, last_id}` out.
 */
import { InvalidRequestError } from './errors.js';

/** OpenAI's cursor page: `data` in the list's order, `has_more` when `after = last id` would return more. */
export interface CursorPageWire<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  first_id?: string | null;
  last_id?: string | null;
}

/** Cursor pagination query: `after` (an id from the previous page) and `limit` (1–`maxLimit`). */
export interface CursorParams {
  after: string | null;
  limit: number;
}

/** Parses `?after=&limit=` as OpenAI list endpoints take them (jobs and events: default 20, at most 100). */
export function parseCursorParams(query: unknown, defaultLimit = 20, maxLimit = 100): CursorParams {
  const q = query !== null && typeof query === 'object' ? (query as Record<string, unknown>) : {};
  const after = typeof q.after === 'string' && q.after !== '' ? q.after : null;
  if (q.limit === undefined || q.limit === '') return { after, limit: defaultLimit };
  const limit = Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw new InvalidRequestError(
      `'limit' must be an integer between 1 and ${maxLimit}; got ${JSON.stringify(q.limit)}.`,
      { param: 'limit', code: 'invalid_value' },
    );
  }
  return { after, limit };
}

/** The page of `data` (one page, already in wire form); `hasMore` says whether the list goes on after it. */
export function cursorPage<T extends { id: string }>(data: T[], hasMore: boolean): CursorPageWire<T> {
  return {
    object: 'list',
    data,
    has_more: hasMore,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  };
}

/**
 * One page of a list held in memory, in its listing order: the items after the one with id `after`, at most
 * `limit`, each rendered by `toWire`. An `after` naming no item is a 400 (`No such <what> object`) rather than a
 * silent first page, so a client never loops over the same items. Lists kept in SQL page there instead and hand
 * their page to `cursorPage`.
 */
export function pageOf<T extends { id: string }, W extends { id: string }>(
  items: readonly T[],
  params: CursorParams,
  what: string,
  toWire: (item: T) => W,
): CursorPageWire<W> {
  const start = params.after === null ? 0 : items.findIndex((item) => item.id === params.after) + 1;
  if (params.after !== null && start === 0) {
    throw new InvalidRequestError(`No such ${what} object: ${params.after}`, { param: 'after' });
  }
  return cursorPage(items.slice(start, start + params.limit).map(toWire), start + params.limit < items.length);
}
