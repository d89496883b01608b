import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { JsonLineDecoder, type DecodedLine } from './json-lines.js';
import { PythonEnv, workerEnv } from './python-env.js';
import { WorkerCancelledError, WorkerClosedError, WorkerCrashError, WorkerError } from './worker-error.js';
import { parseWorkerEvent, type ResultEvent, type WorkerEvent } from './worker-events.js';

/** How the worker process is started and where its non-protocol output goes. */
export interface WorkerClientOptions {
  /** Interpreter; default: the default PythonEnv's (`~/.cache/atelier/venv-<hash>/bin/python`), read at each start. */
  python?: string;
  /** Extra environment on top of `workerEnv()` (thread pins, `ATELIER_MODEL_CACHE_MB`). */
  env?: Record<string, string>;
  /** Working directory of the process; default this process's. */
  cwd?: string;
  /** Milliseconds `close()` waits for the process to exit before SIGKILL; default 10 000 (a checkpoint write). */
  killGraceMs?: number;
  /** Every stderr line and every stdout line that is not an event of a call (library noise, tracebacks). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** The events and cancellation of one call. */
export interface CallOptions {
  /** Events of this call (progress, logs, metrics, checkpoints), in order; its result/error settles the promise. */
  onEvent?: (event: WorkerEvent) => void;
  /** Aborting sends the worker `cancel` for this call (it stops at its next check); the call then rejects. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (result: ResultEvent) => void;
  reject: (error: Error) => void;
  onEvent?: (event: WorkerEvent) => void;
}

/** One started process: its pipes, and a promise that resolves once it exited and its output was delivered. */
interface Running {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<void>;
}

const stderrKeepBytes = 16 * 1024;

/** The worker's module, run as `python -m` (also how a leftover worker process is recognised by its command line). */
export const workerModule = 'atelier_diffusion.worker';

/**
 * The one client of `python -m atelier_diffusion.worker` (python/atelier_diffusion/worker.py): calls are JSON lines
 * `{cmd, id, ...fields}`; the worker runs them one at a time in arrival order, stamps every event with the id (which
 * routes it back to its call) and ends each with a `result` or `error` line.
 *
 * The process starts on the first call and stays up between calls, so models stay loaded (the image worker);
 * a training job is one long call on a client of its own. Crash policy: if the process dies, every call in flight
 * rejects with WorkerCrashError and the next call starts a fresh process — a crash costs the calls that were
 * running, never the server.
 */
export class WorkerClient {
  private running: Running | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private closed = false;
  /** How many times a process was started (1 after the first call; more after crashes). */
  starts = 0;

  constructor(private readonly options: WorkerClientOptions = {}) {}

  /** The current process id, or undefined when none is running. */
  get pid(): number | undefined {
    return this.running?.child.pid;
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `{cmd: command, ...fields}` and resolves with its `result` event (the command's answer is in `data`).
   * Rejects with a WorkerError: the worker's own error, WorkerCancelledError after an abort, WorkerCrashError when
   * the process dies or cannot start, WorkerClosedError after `close()`.
   */
  call(command: string, fields: Record<string, unknown> = {}, options: CallOptions = {}): Promise<ResultEvent> {
    if (this.closed) return Promise.reject(new WorkerClosedError());
    if (options.signal?.aborted) return Promise.reject(new WorkerCancelledError(`${command} cancelled`));
    const { child } = this.start();
    const id = `c${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => send(child, { cmd: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T): void => {
          options.signal?.removeEventListener('abort', onAbort);
          this.pending.delete(id);
          fn(value);
        };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject), onEvent: options.onEvent });
      send(child, { ...fields, cmd: command, id });
    });
  }

  /**
   * Ends the worker's stdin: it finishes its queue and exits (it cancels a running `train` itself, which keeps its
   * checkpoint); SIGKILL after the kill grace. Resolves once the process is gone. Later calls reject; idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (!running) return;
    running.child.stdin.end();
    const timer = setTimeout(() => running.child.kill('SIGKILL'), this.options.killGraceMs ?? 10_000);
    timer.unref();
    await running.exited;
    clearTimeout(timer);
  }

  /** Kills the process as a crash would (tests of the restart path; a stuck worker). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.running?.child.kill(signal);
  }

  private start(): Running {
    if (this.running) return this.running;
    const python = this.options.python ?? new PythonEnv().python;
    const child = spawn(python, ['-m', workerModule], {
      cwd: this.options.cwd,
      env: workerEnv(this.options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.starts += 1;
    // A worker that died before reading its stdin makes writes fail with EPIPE; the exit path reports why.
    child.stdin.on('error', () => undefined);
    const stdout = new JsonLineDecoder();
    const stderr = new JsonLineDecoder();
    let stderrTail = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk).forEach((line) => this.deliver(line)));
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-stderrKeepBytes);
      for (const line of stderr.push(chunk)) this.options.onOutput?.(textOf(line), 'stderr');
    });
    const exited = new Promise<void>((resolve) => {
      let spawnError: Error | null = null;
      child.on('error', (error) => {
        spawnError = error;
      });
      // 'close' (not 'exit') fires after stdout/stderr ended, so every line was delivered before calls are failed.
      child.on('close', (code, signal) => {
        stdout.end().forEach((line) => this.deliver(line));
        this.running = null;
        const error = crashError(python, spawnError, code, signal, stderrTail);
        for (const pending of [...this.pending.values()]) pending.reject(error);
        resolve();
      });
    });
    this.running = { child, exited };
    return this.running;
  }

  private deliver(line: DecodedLine): void {
    const event = line.kind === 'json' ? parseWorkerEvent(line.value) : null;
    const id = line.kind === 'json' ? line.value.id : undefined;
    const pending = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (event === null || pending === undefined) {
      this.options.onOutput?.(textOf(line), 'stdout');
      return;
    }
    if (event.type === 'result') pending.resolve(event);
    else if (event.type === 'error') pending.reject(WorkerError.fromEvent(event));
    else pending.onEvent?.(event);
  }
}

function send(child: ChildProcessWithoutNullStreams, message: Record<string, unknown>): void {
  if (child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`);
}

function textOf(line: DecodedLine): string {
  return line.kind === 'text' ? line.text : JSON.stringify(line.value);
}

/** Why the calls still in flight failed: the spawn error, else the exit and the last stderr lines. */
function crashError(
  python: string,
  spawnError: Error | null,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderrTail: string,
): WorkerCrashError {
  if (spawnError) {
    const message = `could not start the diffusion worker (${python}): ${spawnError.message}`;
    return new WorkerCrashError(message, null, null, stderrTail);
  }
  const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
  const lastLines = stderrTail.trim().split('\n').slice(-5).join('\n');
  const message = `the diffusion worker ${how}${lastLines ? `: ${lastLines}` : ''}`;
  return new WorkerCrashError(message, code, signal, stderrTail);
}

/** Runs one command on a process of its own and closes it (a config schema, an export). */
export async function callOnce(
  command: string,
  fields: Record<string, unknown>,
  options: WorkerClientOptions & CallOptions = {},
): Promise<ResultEvent> {
  const client = new WorkerClient(options);
  try {
    return await client.call(command, fields, options);
  } finally {
    await client.close();
  }
}
