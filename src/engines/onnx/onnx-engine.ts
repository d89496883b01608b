/**
 * The ONNX backend: transformers.js (onnxruntime-node on CPU) loading local model folders — text decoders
 * (`AutoModelForCausalLM`) and vision-language models with their processors (`AutoModelForImageTextToText`:
 * Gemma 3, Idefics3/SmolVLM, Qwen2-VL layouts as transformers.js supports them).
 */
import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  AutoModelForCausalLM,
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  env,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import type { Engine, EngineModel, LoadOptions } from '../engine.js';
import { TokenizerThread } from '../tokenizer-thread.js';
import { OnnxModel } from './onnx-model.js';
import { promptBytesPerToken, tokenizerVocabulary } from './onnx-vocabulary.js';
import { processorImageSide, type ProcessorSizeConfig } from './image-side.js';

/** Options for the ONNX runtime. */
export interface OnnxEngineOptions {
  /** onnxruntime intra-op threads per model; default: onnxruntime's choice (all cores). */
  threads?: number;
}

interface ModelConfig {
  vision_config?: { image_size?: number };
  text_config?: { vocab_size?: number; max_position_embeddings?: number; eos_token_id?: number | number[] };
  vocab_size?: number;
  max_position_embeddings?: number;
  eos_token_id?: number | number[];
}

const readJson = <T>(path: string): T | null =>
  existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
const list = (v: number | number[] | undefined): number[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Loads transformers.js model folders; never downloads (remote models are disabled). */
export class OnnxEngine implements Engine {
  readonly name = 'onnx' as const;
  private readonly models = new Set<EngineModel>();
  private loading: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: OnnxEngineOptions = {}) {}

  /** Loads the folder at `path` (config.json, tokenizer.json, onnx/*.onnx). */
  load(path: string, options: LoadOptions = {}): Promise<EngineModel> {
    if (this.disposed) return Promise.reject(new Error('OnnxEngine used after dispose()'));
    // transformers.js resolves model ids against the global env.localModelPath, so loads run one at a time.
    const next = this.loading.then(() => this.loadNow(path, options));
    this.loading = next.catch(() => undefined);
    return next;
  }

  private async loadNow(path: string, options: LoadOptions): Promise<EngineModel> {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dirname(path);
    const id = basename(path);
    const config = readJson<ModelConfig>(join(path, 'config.json')) ?? {};
    const generation = readJson<{ eos_token_id?: number | number[] }>(join(path, 'generation_config.json')) ?? {};
    const tokenizerConfig =
      readJson<{ chat_template?: string; bos_token?: string | null; eos_token?: string | null }>(
        join(path, 'tokenizer_config.json'),
      ) ?? {};
    const template =
      readJson<{ chat_template?: string }>(join(path, 'chat_template.json'))?.chat_template ??
      (existsSync(join(path, 'chat_template.jinja'))
        ? readFileSync(join(path, 'chat_template.jinja'), 'utf8')
        : (tokenizerConfig.chat_template ?? null));
    const vision = config.vision_config !== undefined;
    const session_options = this.options.threads
      ? { intraOpNumThreads: this.options.threads, interOpNumThreads: 1 }
      : {};
    const load = { local_files_only: true, device: 'cpu' as const, dtype: 'fp32' as const, session_options };
    const model = vision
      ? await AutoModelForImageTextToText.from_pretrained(id, load)
      : await AutoModelForCausalLM.from_pretrained(id, load);
    const processor = vision ? await AutoProcessor.from_pretrained(id, { local_files_only: true }) : null;
    const tokenizer = (processor?.tokenizer ??
      (await AutoTokenizer.from_pretrained(id, { local_files_only: true }))) as PreTrainedTokenizer;
    const text = config.text_config ?? config;
    const vocabSize = text.vocab_size ?? config.vocab_size ?? 0;
    const eog = [
      ...new Set([...list(generation.eos_token_id), ...list(config.eos_token_id), ...list(text.eos_token_id)]),
    ];
    const tokenizerJson = readJson<Parameters<typeof tokenizerVocabulary>[0]>(join(path, 'tokenizer.json'));
    if (!tokenizerJson) throw new Error(`${path} has no tokenizer.json`);
    const trained = text.max_position_embeddings ?? config.max_position_embeddings ?? 4096;
    const vocabulary = tokenizerVocabulary(tokenizerJson, vocabSize, eog);
    const loaded = new OnnxModel({
      model,
      tokenizer,
      tokenizerThread: await TokenizerThread.start({ kind: 'onnx', path }),
      processor,
      vocabulary,
      info: {
        contextSize: Math.min(options.contextSize ?? 4096, trained),
        trainContextSize: trained,
        vocabSize,
        chatTemplate: template,
        bosToken: tokenizerConfig.bos_token ?? null,
        eosToken: tokenizerConfig.eos_token ?? null,
        vision,
        imageSide: vision
          ? processorImageSide(
              readJson<ProcessorSizeConfig>(join(path, 'preprocessor_config.json')),
              config.vision_config,
            )
          : null,
        prefixCache: !vision,
        promptBytesPerToken: promptBytesPerToken(tokenizerJson, vocabulary),
      },
    });
    this.models.add(loaded);
    return loaded;
  }

  /** Disposes every model it loaded. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.loading;
    for (const m of this.models) await m.dispose();
  }
}
