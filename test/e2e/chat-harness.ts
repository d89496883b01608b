/**
 * A real atelier server (createServer, store in a temp ATELIER_HOME) on 127.0.0.1:0 serving the generated demo GGUF
 * through the chat route, and an official `openai` client pointed at it. Shared by the chat e2e test files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ChatModelPool, type ChatModel } from '../../src/chat/index.js';
import { GgufEngine, OnnxEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig, type AtelierConfig, type RoutePlugin } from '../../src/server/index.js';
import { chatCompletionsRoutes } from '../../src/server/routes/chat-completions.js';
import { openStore, type ModelRecord } from '../../src/store/index.js';

/** The served demo model's name. */
export const MODEL = 'atelier-demo-gguf';

/** A running server and its client. */
export interface ChatHarness {
  client: OpenAI;
  baseURL: string;
  pool: ChatModelPool;
  record: ModelRecord;
  /** Every installed demo model's record, in `models` order. */
  records: ModelRecord[];
  /** The loaded model (for its vocabulary). */
  model: ChatModel;
  close(): Promise<void>;
}

/** Options of the test server. */
export interface HarnessOptions {
  parallel?: number;
  queue?: number;
  contextSize?: number;
  /** Demo models to install; the first is `record`/`model`. Default: the demo GGUF. */
  models?: string[];
  /** Configuration keys over the defaults (image fetch policy, image limits). */
  config?: Partial<AtelierConfig>;
  /** Routes served beside chat completions (e.g. `/v1/files`). */
  routes?: RoutePlugin[];
}

/** Starts the server with the given demo models installed under their demo names. */
export async function startChatHarness(options: HarnessOptions = {}): Promise<ChatHarness> {
  const home = mkdtempSync(join(tmpdir(), 'atelier-chat-e2e-'));
  const store = openStore(home);
  const registry = new ModelRegistry(store);
  const records: ModelRecord[] = [];
  for (const name of options.models ?? [MODEL]) {
    const spec = demoModels.find((m) => m.name === name);
    if (!spec) throw new Error(`demo model ${name} missing`);
    records.push(registry.addLocal(await spec.generate(join(home, 'demo-src', name), { seed: 1 }), { name }));
  }
  const record = records[0] as ModelRecord;
  const pool = new ChatModelPool({
    engines: { gguf: () => GgufEngine.create({ threads: 1 }), onnx: async () => new OnnxEngine({ threads: 1 }) },
    contextSize: options.contextSize ?? 1024,
    parallel: options.parallel ?? 2,
    queue: options.queue ?? 8,
  });
  const config: AtelierConfig = { ...defaultConfig(), home, logLevel: 'warn', ...options.config };
  const app = await createServer({ store, registry, config }, [chatCompletionsRoutes(pool), ...(options.routes ?? [])]);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const baseURL = `${address}/v1`;
  return {
    client: new OpenAI({ baseURL, apiKey: 'test', maxRetries: 0 }),
    baseURL,
    pool,
    record,
    records,
    model: await pool.get(record),
    close: async () => {
      await app.close();
      store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
