/**
 * SQL written once in SQLite's spelling, rendered for PostgreSQL: placeholders (`?`, `@name` → `$n`) in queries and
 * column types in the migrations' DDL. The repositories keep to the common subset (ON CONFLICT … excluded, COALESCE,
 * CASE, LIMIT); the few spots where the two differ choose by `SqlDatabase.dialect` where they are.
 */

/** A query with PostgreSQL placeholders and how to pick each `$n`'s value from better-sqlite3-style parameters. */
export interface PostgresQuery {
  text: string;
  /** For `$1`, `$2`, …: an index into positional parameters, or a property name of the named-parameter object. */
  slots: (number | string)[];
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Rewrites `?` (positional, in order) and `@name` (named; a repeated name reuses its `$n`) into `$1…$n`, leaving
 * string literals, quoted identifiers and `--` comments untouched.
 */
export function toPostgresQuery(sql: string): PostgresQuery {
  const slots: (number | string)[] = [];
  const named = new Map<string, number>();
  let positional = 0;
  let text = '';
  for (let i = 0; i < sql.length; i += 1) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end;
      text += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      text += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      slots.push(positional);
      positional += 1;
      text += `$${slots.length}`;
    } else if (c === '@') {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(sql)?.[0];
      if (!name) throw new Error(`a lone '@' at offset ${i} of: ${sql}`);
      let slot = named.get(name);
      if (slot === undefined) {
        slots.push(name);
        slot = slots.length;
        named.set(name, slot);
      }
      text += `$${slot}`;
      i += name.length;
    } else {
      text += c;
    }
  }
  return { text, slots };
}

/** The values for a query's `$n`, from positional parameters or one named-parameter object (better-sqlite3's forms). */
export function bindValues(query: PostgresQuery, params: unknown[]): unknown[] {
  const object = params.length === 1 && isRecord(params[0]) ? params[0] : undefined;
  return query.slots.map((slot) => {
    if (typeof slot === 'number') return params[slot] ?? null;
    if (!object || !(slot in object)) throw new Error(`missing named parameter @${slot}`);
    return object[slot] ?? null;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * A migration's DDL, written for SQLite, as PostgreSQL DDL: `INTEGER PRIMARY KEY AUTOINCREMENT` → `BIGSERIAL PRIMARY
 * KEY`, `INTEGER` → `BIGINT` (Unix seconds and sizes outgrow int4), `BLOB` → `BYTEA`. TEXT and the rest are common.
 */
export function toPostgresSchema(sql: string): string {
  return sql
    .replace(/\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b/gi, 'BIGSERIAL PRIMARY KEY')
    .replace(/\bINTEGER\b/gi, 'BIGINT')
    .replace(/\bBLOB\b/gi, 'BYTEA');
}
