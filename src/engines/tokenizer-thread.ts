/**
 * A model's tokenizer on its own worker thread. Tokenising is proportional to the text (a 10 MB prompt took 26 s
 * with transformers.js, 4 s with llama.cpp), so prompts are tokenised here and never on the event loop, where it
 * would freeze every other client. The tokens are the whole text's, from the same library and files as the model.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/index.js';

/** Which tokenizer to load: a `.gguf` file (vocabulary only) or a transformers.js model folder. */
export interface TokenizerSource {
  kind: 'gguf' | 'onnx';
  path: string;
}

/** One request to the worker. */
export interface TokenizerRequest {
  id: number;
  text: string;
  special: boolean;
}

/** The worker's answer (id -1: the load itself; `tokens` empty when it succeeded). */
export type TokenizerResponse = { id: number; tokens: Int32Array } | { id: number; error: string };

/** Tokenisations kept: a request's count and each of its `n` choices reuse one. */
const RECENT = 4;
/** How long a closing thread may take to release its tokenizer before it is terminated, in milliseconds. */
const CLOSE_GRACE_MS = 5000;

/** A started tokenizer thread; `dispose()` ends it. */
export class TokenizerThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (t: number[]) => void; reject: (e: Error) => void }>();
  private readonly recent = new Map<string, Promise<number[]>>();
  private failure: Error | null = null;
  private closed = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: TokenizerResponse) => this.answer(m));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the tokenizer thread exited (code ${code})`)));
  }

  /** Starts the thread and waits until its tokenizer is loaded; throws when it cannot be. */
  static async start(source: TokenizerSource): Promise<TokenizerThread> {
    const worker = startModuleWorker(import.meta.url, 'tokenizer-worker', { workerData: source });
    const thread = new TokenizerThread(worker);
    await new Promise<number[]>((resolve, reject) => thread.pending.set(-1, { resolve, reject })).catch(
      async (error: unknown) => {
        await worker.terminate();
        throw error;
      },
    );
    worker.unref();
    return thread;
  }

  /** The tokens of `text` (special-token text parsed when `special`), computed off the event loop. */
  tokenize(text: string, special: boolean): Promise<number[]> {
    const key = `${special ? 1 : 0}${text}`;
    const hit = this.recent.get(key);
    if (hit) return hit;
    const result = this.request(text, special);
    if (this.recent.size >= RECENT) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(key, result);
    // A failed tokenisation is not remembered.
    result.catch(() => this.recent.delete(key));
    return result;
  }

  /**
   * Ends the thread; pending and later calls reject. The thread releases its tokenizer and exits by itself
   * (terminating a thread that holds llama.cpp state aborts the whole process); terminated only if it hangs.
   */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('the tokenizer thread was disposed'));
    this.recent.clear();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private request(text: string, special: boolean): Promise<number[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // Held only while work is pending, so an idle thread never keeps the process alive.
    if (this.pending.size === 0) this.worker.ref();
    const answer = new Promise<number[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, text, special } satisfies TokenizerRequest);
    return answer;
  }

  private answer(message: TokenizerResponse): void {
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker.unref();
    if ('error' in message) waiter.reject(new Error(message.error));
    else waiter.resolve(Array.from(message.tokens));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
