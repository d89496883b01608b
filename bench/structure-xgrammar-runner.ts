/** Drives web-xgrammar in a worker thread (structure-xgrammar.cjs) so a schema that compiles for minutes can be cut off. */
import { Worker } from 'node:worker_threads';
import type { BenchTokenizer } from './structure-tokenizers.js';

/** Outcome of one schema. */
export type XGrammarResult =
  | { kind: 'ok'; ttfm: number; tbm: number[]; verdicts: boolean[] }
  | { kind: 'error'; message: string }
  | { kind: 'timeout' };

interface Reply {
  ready?: boolean;
  compileError?: string;
  crash?: string;
  ttfm?: number;
  tbm?: number[];
  verdicts?: boolean[];
}

/** One worker at a time; a timed-out worker is terminated and replaced. */
export class XGrammarRunner {
  private worker!: Worker;

  private constructor(
    private readonly tok: BenchTokenizer,
    private readonly timeoutMs: number,
  ) {}

  /** Starts the worker and builds xgrammar's tokenizer info. */
  static async start(tok: BenchTokenizer, timeoutMs: number): Promise<XGrammarRunner> {
    const r = new XGrammarRunner(tok, timeoutMs);
    await r.spawn();
    return r;
  }

  private async spawn(): Promise<void> {
    this.worker = new Worker(new URL('./structure-xgrammar.cjs', import.meta.url));
    const reply = await this.request({ type: 'init', vocab: this.tok.byteLevel, eos: this.tok.eos }, 600_000);
    if (!reply || !reply.ready) throw new Error(`web-xgrammar failed to start: ${reply?.crash ?? 'timeout'}`);
  }

  private request(msg: unknown, timeoutMs: number): Promise<Reply | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.worker.removeAllListeners('message');
        resolve(null);
      }, timeoutMs);
      this.worker.once('message', (m: Reply) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.worker.postMessage(msg);
    });
  }

  /** Compiles `schema` and feeds each token list (EOS appended by the worker). */
  async run(schema: string, tests: number[][]): Promise<XGrammarResult> {
    const reply = await this.request({ type: 'run', schema, tests, eos: this.tok.eos }, this.timeoutMs);
    if (!reply) {
      await this.worker.terminate();
      await this.spawn();
      return { kind: 'timeout' };
    }
    if (reply.compileError !== undefined || reply.crash !== undefined)
      return { kind: 'error', message: reply.compileError ?? reply.crash! };
    return { kind: 'ok', ttfm: reply.ttfm!, tbm: reply.tbm!, verdicts: reply.verdicts! };
  }

  /** Ends the worker. */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
