import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  JsonLineDecoder,
  parseWorkerEvent,
  pythonExecutable,
  workerEnv,
  type WorkerEvent,
} from '../personalize/index.js';

/** How to start the resident worker. */
export interface ResidentWorkerOptions {
  /** Interpreter; default: the pinned virtualenv's (`pythonExecutable()`). */
  python?: string;
  /** Extra environment on top of `workerEnv()` (e.g. `ATELIER_MODEL_CACHE_MB`). */
  env?: Record<string, string>;
  /** Milliseconds `close()` waits for a clean exit before SIGKILL; default 5 000. */
  closeGraceMs?: number;
  /** Every stderr line and every stdout line that is not an event (library noise, tracebacks). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** The events and cancellation of one call. */
export interface CallOptions {
  /** Events of this call (progress, logs), in order; the final result/error settles the promise instead. */
  onEvent?: (event: WorkerEvent) => void;
  /** Aborting sends `cancel` for this call; the worker stops between denoising steps. */
  signal?: AbortSignal;
}

/** A call failed in the worker: `code` is the worker's (`invalid_params`, `cancelled`, `invalid_model`, …). */
export class WorkerCallError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'WorkerCallError';
  }
}

interface Pending {
  resolve: (data: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  onEvent?: (event: WorkerEvent) => void;
}

/**
 * One long-lived `python -m atelier_diffusion.worker` process serving many calls, so loaded models stay in its
 * memory between requests. Calls are JSON lines tagged with an id; the worker runs them one at a time in arrival
 * order (its own queue) and stamps every event with the id, which routes it back here.
 *
 * The process starts on the first call. If it dies, every call in flight fails with a `worker_crashed`
 * WorkerCallError and the next call starts a fresh process — a crash costs the requests that were running, never
 * the server.
 */
export class ResidentWorker {
  private child: ChildProcessWithoutNullStreams | null = null;
  private exited: Promise<void> | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private closed = false;
  /** How many times a process was started (1 after the first call; more after crashes). */
  starts = 0;

  constructor(private readonly options: ResidentWorkerOptions = {}) {}

  /** The current process id, or undefined when none is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Calls currently sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `{cmd, ...fields}` and resolves with the fields of its `result` line; rejects with WorkerCallError on an
   * `error` line (code `cancelled` after an abort) or when the process dies (code `worker_crashed`).
   */
  call(cmd: string, fields: Record<string, unknown>, options: CallOptions = {}): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new WorkerCallError('the image worker is shut down', 'worker_closed'));
    if (options.signal?.aborted) return Promise.reject(new WorkerCallError(`${cmd} cancelled`, 'cancelled'));
    const child = this.ensureStarted();
    const id = `c${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.send(child, { cmd: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = <T>(fn: (value: T) => void) => (value: T): void => {
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        fn(value);
      };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject), onEvent: options.onEvent });
      this.send(child, { ...fields, cmd, id });
    });
  }

  /** Ends stdin so the worker finishes its queue and exits; SIGKILL after the grace period. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || !this.exited) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.closeGraceMs ?? 5_000);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the process as a crash would (for tests of the restart path and for a stuck worker). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  private send(child: ChildProcessWithoutNullStreams, message: Record<string, unknown>): void {
    if (child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private ensureStarted(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(this.options.python ?? pythonExecutable(), ['-m', 'atelier_diffusion.worker'], {
      env: workerEnv(this.options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.starts += 1;
    this.child = child;
    // A worker that died before reading makes writes fail with EPIPE; the exit handler reports the failure.
    child.stdin.on('error', () => undefined);
    let stderrTail = '';
    const stdout = new JsonLineDecoder();
    const stderr = new JsonLineDecoder();
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk).forEach((line) => this.deliver(line)));
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
      for (const line of stderr.push(chunk)) {
        this.options.onOutput?.(line.kind === 'text' ? line.text : JSON.stringify(line.value), 'stderr');
      }
    });
    this.exited = new Promise((resolve) => {
      const finish = (why: string): void => {
        if (this.child !== child) return;
        this.child = null;
        const tail = stderrTail.trim().split('\n').slice(-3).join('\n');
        for (const pending of [...this.pending.values()]) {
          pending.reject(new WorkerCallError(`the image worker ${why}${tail ? `: ${tail}` : ''}`, 'worker_crashed'));
        }
        resolve();
      };
      child.on('error', (err) => finish(`could not start (${err.message})`));
      child.on('close', (code, signal) => finish(signal ? `was killed by ${signal}` : `exited with status ${code}`));
    });
    return child;
  }

  private deliver(line: ReturnType<JsonLineDecoder['push']>[number]): void {
    const event = line.kind === 'json' ? parseWorkerEvent(line.value) : null;
    const id = line.kind === 'json' ? line.value.id : undefined;
    const pending = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (event === null || pending === undefined) {
      this.options.onOutput?.(line.kind === 'json' ? JSON.stringify(line.value) : line.text, 'stdout');
      return;
    }
    if (event.type === 'result') pending.resolve(event.data);
    else if (event.type === 'error') pending.reject(new WorkerCallError(event.message, event.code ?? 'error', event.details));
    else pending.onEvent?.(event);
  }
}
