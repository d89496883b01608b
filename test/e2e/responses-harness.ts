/**
 * A real atelier server (createServer, store in a temp ATELIER_HOME) on 127.0.0.1:0 serving demo chat models through
 * `/v1/chat/completions` and `/v1/responses` on one pool, optionally with the image routes and the resident image
 * worker, and an official `openai` client pointed at it. Shared by the responses e2e test files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ChatModelPool } from '../../src/chat/index.js';
import { GgufEngine, OnnxEngine } from '../../src/engines/index.js';
import { ImageGenerator } from '../../src/images/index.js';
import { demoModels } from '../../src/models/demo/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig, type RoutePlugin } from '../../src/server/index.js';
import { chatCompletionsRoutes } from '../../src/server/routes/chat-completions.js';
import { imageRoutes } from '../../src/server/routes/images.js';
import { responsesRoutes } from '../../src/server/routes/responses.js';
import { openStore, type Store } from '../../src/store/index.js';
import { WorkerClient } from '../../src/worker/index.js';

/** A running server and its client. */
export interface ResponsesHarness {
  client: OpenAI;
  baseURL: string;
  home: string;
  store: Store;
  registry: ModelRegistry;
  close(): Promise<void>;
}

/** Starts the server with `models` (demo names) installed; `images` adds the image routes on a resident worker. */
export async function startResponsesHarness(
  models: string[],
  options: { images?: boolean } = {},
): Promise<ResponsesHarness> {
  const home = mkdtempSync(join(tmpdir(), 'atelier-responses-e2e-'));
  const store = openStore(home);
  const registry = new ModelRegistry(store);
  for (const name of models) {
    const spec = demoModels.find((m) => m.name === name);
    if (!spec) throw new Error(`demo model ${name} missing`);
    registry.addLocal(await spec.generate(join(home, 'demo-src', name), { seed: 1 }), { name });
  }
  const pool = new ChatModelPool({
    engines: { gguf: () => GgufEngine.create({ threads: 1 }), onnx: async () => new OnnxEngine({ threads: 1 }) },
    contextSize: 1024,
    parallel: 2,
    queue: 8,
  });
  const generator = options.images
    ? new ImageGenerator({ worker: new WorkerClient(), outputDir: join(home, 'images') })
    : null;
  const plugins: RoutePlugin[] = [chatCompletionsRoutes(pool, generator), responsesRoutes(pool, generator)];
  if (generator) plugins.push(imageRoutes(generator));
  const config = { ...defaultConfig(), home, logLevel: 'warn' as const };
  const app = await createServer({ store, registry, config }, plugins);
  const baseURL = `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`;
  return {
    client: new OpenAI({ baseURL, apiKey: 'test', maxRetries: 0 }),
    baseURL,
    home,
    store,
    registry,
    close: async () => {
      await app.close();
      store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
