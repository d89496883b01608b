/**
 * The GGUF backend: one `Llama` runtime (CPU, explicit thread count) that loads `.gguf` files as `GgufModel`s.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import type { Engine, EngineModel, LoadOptions } from '../engine.js';
import { TokenizerThread } from '../tokenizer-thread.js';
import { GgufModel } from './gguf-model.js';

/** Options for the GGUF runtime. */
export interface GgufEngineOptions {
  /** CPU threads per evaluation; default: all cores (`os.availableParallelism()`). Set it explicitly on shared hosts. */
  threads?: number;
  /**
   * Quantize the KV cache (e.g. `'Q8_0'`) to fit longer contexts; default F16. llama.cpp quantizes per attention
   * head in blocks of 32 values, so a model whose head size is not a multiple of 32 keeps an F16 cache.
   */
  kvCacheType?: 'F16' | 'Q8_0' | 'Q4_0';
  /** Use a GPU when one is present; default false (the prebuilt CPU binary, no compile step). */
  gpu?: boolean;
}

/** Loads GGUF models on one shared llama.cpp runtime. */
export class GgufEngine implements Engine {
  readonly name = 'gguf' as const;
  private readonly models = new Set<EngineModel>();
  private disposed = false;

  private constructor(
    private readonly llama: Llama,
    private readonly options: GgufEngineOptions,
  ) {}

  /** Starts the runtime (loads the native binding; never builds from source). */
  static async create(options: GgufEngineOptions = {}): Promise<GgufEngine> {
    const { availableParallelism } = await import('node:os');
    const threads = options.threads ?? availableParallelism();
    const llama = await getLlama({
      gpu: options.gpu ? 'auto' : false,
      build: 'never',
      maxThreads: threads,
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    });
    return new GgufEngine(llama, { ...options, threads });
  }

  /** Loads `path` (a .gguf file) with a context of `contextSize` tokens shared by `parallel` sequences. */
  async load(path: string, options: LoadOptions = {}): Promise<EngineModel> {
    if (this.disposed) throw new Error('GgufEngine used after dispose()');
    const model = await this.llama.loadModel({ modelPath: path, gpuLayers: this.options.gpu ? 'auto' : 0 });
    const parallel = options.parallel ?? 4;
    const perSequence = Math.min(options.contextSize ?? 4096, model.trainContextSize);
    const kv = kvCacheFor(model, this.options.kvCacheType);
    let tokenizer: TokenizerThread | null = null;
    try {
      tokenizer = await TokenizerThread.start({ kind: 'gguf', path });
      const context = await model.createContext({
        sequences: parallel,
        // Per sequence: node-llama-cpp gives each sequence its own `contextSize` cells.
        contextSize: perSequence,
        threads: { ideal: this.options.threads, min: this.options.threads },
        // llama.cpp quantizes the V cache only under flash attention.
        flashAttention: kv !== undefined,
        ...(kv && { experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv }),
      });
      const loaded = new GgufModel(model, context, tokenizer);
      this.models.add(loaded);
      return loaded;
    } catch (error) {
      await tokenizer?.dispose();
      await model.dispose();
      throw error;
    }
  }

  /** Disposes every model it loaded, then the runtime. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.models) await m.dispose();
    await this.llama.dispose();
  }
}

/** Quantized KV cache block size (Q8_0 and Q4_0 alike, ggml `QK8_0`/`QK4_0`). */
const KV_BLOCK = 32;

/** The quantized KV cache type to use for `model`, or undefined for F16 (asked for, or heads not block-aligned). */
function kvCacheFor(model: LlamaModel, wanted: GgufEngineOptions['kvCacheType']): 'Q8_0' | 'Q4_0' | undefined {
  if (wanted === undefined || wanted === 'F16') return undefined;
  const meta = model.fileInfo.architectureMetadata;
  const heads = meta.attention?.head_count;
  const head = meta.embedding_length && typeof heads === 'number' ? meta.embedding_length / heads : NaN;
  const sizes = [meta.attention?.key_length ?? head, meta.attention?.value_length ?? head];
  return sizes.every((n) => Number.isInteger(n) && n % KV_BLOCK === 0) ? wanted : undefined;
}
