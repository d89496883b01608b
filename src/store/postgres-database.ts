/**
 * PostgreSQL behind the synchronous `SqlDatabase` shape (why synchronous: `sql-database.ts`). One `pg` client lives in
 * a worker thread; each query is posted to it and the calling thread sleeps on an `Atomics.wait` until the reply is
 * in the port, the way synckit and Node's own loader hooks turn asynchronous work into a synchronous call. One
 * connection per process keeps transactions simple: every statement between BEGIN and COMMIT is this connection's.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { bindValues, toPostgresQuery, type PostgresQuery } from './sql-dialect.js';
import type { SqlDatabase, SqlStatement } from './sql-database.js';

/** How long one statement may take before the call gives up (migrations on a big database included). */
const STATEMENT_TIMEOUT_MS = 2 * 60_000;

// Plain CommonJS evaluated in the worker, so it runs the same under tsx (tests) and from dist/ (no loader needed).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
// int8 (BIGINT, BIGSERIAL, COUNT) as numbers: ids, sizes and Unix seconds are far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
const client = new pg.Client({ connectionString: workerData.url, connectionTimeoutMillis: 15000 });
let broken = null;
client.on('error', (e) => { broken = e; });
const ready = client.connect();
const signal = new Int32Array(workerData.signal);
const port = workerData.port;
port.on('message', async (request) => {
  let reply;
  try {
    await ready;
    if (broken) throw broken;
    if (request.close) { await client.end(); reply = { rows: [], changes: 0 }; }
    else {
      const values = request.values && request.values.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v));
      const result = await client.query(values ? { text: request.text, values } : request.text);
      const last = Array.isArray(result) ? result[result.length - 1] : result;
      reply = { rows: last ? last.rows : [], changes: last && last.rowCount ? last.rowCount : 0 };
    }
  } catch (error) {
    reply = { error: { message: String(error && error.message), code: error && error.code } };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

interface Reply {
  rows: Record<string, unknown>[];
  changes: number;
  error?: { message: string; code?: string };
}

/** A PostgreSQL error as thrown to callers; `code` is the SQLSTATE (`23505` unique violation, `23503` foreign key). */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Rows cross the thread boundary by structured clone, which turns Buffers into plain Uint8Arrays: restore them. */
function restoreBuffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
      row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return row;
}

/** A synchronous PostgreSQL connection. */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres';
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly queries = new Map<string, PostgresQuery>();
  private depth = 0;
  private closed = false;

  /** Connects to `url` (`postgres://user:pass@host:port/db`); the first statement waits for the connection. */
  constructor(url: string) {
    const { port1, port2 } = new MessageChannel();
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // Not the parent's flags: a loader or `--input-type=module` would turn this CommonJS source into something else.
      execArgv: [],
      workerData: { url, pgPath, signal: this.signal.buffer, port: port2 },
      transferList: [port2],
    });
    // The caller blocks on every query, so neither the thread nor the port should keep the process alive by itself.
    this.worker.unref();
    this.port = port1;
    this.port.unref();
  }

  private call(request: { text?: string; values?: unknown[]; close?: boolean }): Reply {
    if (this.closed && !request.close) throw new Error('the PostgreSQL store is closed');
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage(request);
    if (Atomics.wait(this.signal, 0, 0, STATEMENT_TIMEOUT_MS) === 'timed-out') {
      throw new Error(`PostgreSQL did not answer within ${STATEMENT_TIMEOUT_MS / 1000} s: ${request.text ?? 'close'}`);
    }
    const reply = receiveMessageOnPort(this.port)?.message as Reply | undefined;
    if (!reply) throw new Error('the PostgreSQL connection thread stopped');
    if (reply.error) throw new PostgresError(reply.error.message, reply.error.code);
    return reply;
  }

  private query(sql: string): PostgresQuery {
    let query = this.queries.get(sql);
    if (!query) {
      query = toPostgresQuery(sql);
      this.queries.set(sql, query);
    }
    return query;
  }

  prepare(sql: string): SqlStatement {
    const query = this.query(sql);
    const execute = (params: unknown[]): Reply => this.call({ text: query.text, values: bindValues(query, params) });
    return {
      run: (...params) => ({ changes: execute(params).changes }),
      get: (...params) => {
        const row = execute(params).rows[0];
        return row && restoreBuffers(row);
      },
      all: (...params) => execute(params).rows.map(restoreBuffers),
    };
  }

  exec(sql: string): void {
    this.call({ text: sql });
  }

  /** Runs PostgreSQL's own SQL (`$n` placeholders, no rendering) on this connection, inside any open transaction. */
  rawQuery(text: string, values: unknown[]): Record<string, unknown>[] {
    return this.call({ text, values }).rows.map(restoreBuffers);
  }

  transaction<T>(fn: () => T): T {
    const savepoint = `atelier_sp${this.depth}`;
    this.exec(this.depth === 0 ? 'BEGIN' : `SAVEPOINT ${savepoint}`);
    this.depth += 1;
    try {
      const result = fn();
      this.depth -= 1;
      this.exec(this.depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`);
      return result;
    } catch (error) {
      this.depth -= 1;
      this.exec(this.depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`);
      throw error;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.call({ close: true });
    } finally {
      void this.worker.terminate();
    }
  }
}
