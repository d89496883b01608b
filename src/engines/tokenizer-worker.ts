/**
 * Worker-thread side of `TokenizerThread`: loads the model's tokenizer alone (node-llama-cpp with `vocabOnly`, or
 * transformers.js `AutoTokenizer` on the same folder) and answers tokenize requests, so that tokenising a long prompt
 * never blocks the server's event loop. Same library, same files, whole text at once: the same tokens as the model's
 * own tokenizer on the main thread.
 */
import { basename, dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../util/index.js';
import type { TokenizerRequest, TokenizerResponse, TokenizerSource } from './tokenizer-thread.js';

interface Tokenizer {
  tokenize(text: string, special: boolean): ArrayLike<number>;
  /** Releases native state before the thread exits (terminating a thread under llama.cpp aborts the process). */
  dispose(): Promise<void>;
}

async function loadGguf(path: string): Promise<Tokenizer> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    maxThreads: 1,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  });
  const model = await llama.loadModel({ modelPath: path, vocabOnly: true, gpuLayers: 0 });
  return {
    tokenize: (text, special) => model.tokenize(text, special),
    dispose: async () => {
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function loadOnnx(path: string): Promise<Tokenizer> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(path);
  const tokenizer = await AutoTokenizer.from_pretrained(basename(path), { local_files_only: true });
  // Added tokens (`<|im_end|>`) are always recognised by HF tokenizers, as in `OnnxModel.tokenize`.
  return { tokenize: (text) => tokenizer.encode(text, { add_special_tokens: false }), dispose: async () => undefined };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('tokenizer-worker must run as a worker thread');
  const source = workerData as TokenizerSource;
  lowerThreadPriority();
  let tokenizer: Tokenizer;
  try {
    tokenizer = source.kind === 'gguf' ? await loadGguf(source.path) : await loadOnnx(source.path);
  } catch (error) {
    port.postMessage({
      id: -1,
      error: `cannot load the tokenizer: ${(error as Error).message}`,
    } satisfies TokenizerResponse);
    return;
  }
  port.postMessage({ id: -1, tokens: new Int32Array(0) } satisfies TokenizerResponse);
  port.on('message', (request: TokenizerRequest | 'close') => {
    if (request === 'close') {
      void tokenizer.dispose().finally(() => port.close());
      return;
    }
    try {
      const tokens = Int32Array.from(tokenizer.tokenize(request.text, request.special));
      port.postMessage({ id: request.id, tokens } satisfies TokenizerResponse, [tokens.buffer]);
    } catch (error) {
      port.postMessage({ id: request.id, error: (error as Error).message } satisfies TokenizerResponse);
    }
  });
}

await main();
