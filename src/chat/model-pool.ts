/**
 * Loaded chat models, keyed by model name: each is loaded on first use with the engine for its format (engines are
 * handed in by the composition root), shared by all requests, and guarded by its own `Admission`.
 */
import { InvalidRequestError } from '../protocol/index.js';
import type { Engine, LoadOptions } from '../engines/index.js';
import { Admission } from './admission.js';
import { ChatModel } from './chat-model.js';

/** The part of a registry record the pool needs. */
export interface ChatModelSource {
  name: string;
  format: string;
  path: string;
}

/** How the pool loads and guards models. */
export interface ChatModelPoolOptions {
  /** Engine factories by model format; each is created once, on first need. */
  engines: Partial<Record<'gguf' | 'onnx', () => Promise<Engine>>>;
  /** Context size per sequence in tokens (default 4096, capped at the model's trained length). */
  contextSize?: number;
  /** Context size by model name, overriding `contextSize` for that model (also capped at its trained length). */
  contextSizes?: Readonly<Record<string, number>>;
  /** Concurrent generations per model (default 4). */
  parallel?: number;
  /** Requests allowed to wait per model beyond `parallel` (default 16). */
  queue?: number;
}

interface Entry {
  model: Promise<ChatModel>;
  admission: Admission;
}

/** Lazily loaded chat models; `dispose()` releases every model and engine. */
export class ChatModelPool {
  private readonly entries = new Map<string, Entry>();
  private readonly engines = new Map<string, Promise<Engine>>();

  constructor(private readonly options: ChatModelPoolOptions) {}

  /** The loaded model for `source`, loading it on first use; 400 when its format cannot chat. */
  get(source: ChatModelSource): Promise<ChatModel> {
    return this.entry(source).model;
  }

  /** Admits one request for `source`'s model or throws 429; returns the release callback. */
  admit(source: ChatModelSource): () => void {
    return this.entry(source).admission.enter();
  }

  /** Requests of model `name` admitted and not yet finished (0 when it was never used). */
  inFlight(name: string): number {
    return this.entries.get(name)?.admission.active ?? 0;
  }

  private entry(source: ChatModelSource): Entry {
    const existing = this.entries.get(source.name);
    if (existing) return existing;
    const format = source.format;
    if (format !== 'gguf' && format !== 'onnx') {
      throw new InvalidRequestError(`The model '${source.name}' (${format}) is not a chat model`, {
        param: 'model',
        code: 'model_not_supported',
      });
    }
    const factory = this.options.engines[format];
    if (!factory) throw new InvalidRequestError(`No engine for ${format} models is configured`, { param: 'model' });
    let engine = this.engines.get(format);
    if (!engine) {
      engine = factory();
      this.engines.set(format, engine);
    }
    const sizes = this.options.contextSizes ?? {};
    const contextSize =
      (Object.hasOwn(sizes, source.name) ? sizes[source.name] : undefined) ?? this.options.contextSize ?? 4096;
    const load: LoadOptions = { contextSize, parallel: this.options.parallel ?? 4 };
    const model = engine.then(async (e) => new ChatModel(source.name, await e.load(source.path, load)));
    // A failed load is not cached: the next request retries (the file may have been fixed or re-pulled).
    model.catch(() => this.entries.delete(source.name));
    const entry = { model, admission: new Admission({ parallel: load.parallel, queue: this.options.queue ?? 16 }) };
    this.entries.set(source.name, entry);
    return entry;
  }

  /** Disposes every loaded model, then the engines. */
  async dispose(): Promise<void> {
    const models = [...this.entries.values()].map((e) =>
      e.model.then(
        (m) => m.dispose(),
        () => undefined,
      ),
    );
    this.entries.clear();
    await Promise.all(models);
    const engines = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(
      engines.map((e) =>
        e.then(
          (x) => x.dispose(),
          () => undefined,
        ),
      ),
    );
  }
}
