// Child process for event-loop.test.ts: the server under attack, alone on its event loop, so that /health latency
// measures the server's loop and not the test's (which encodes attack bodies and runs the poller). Serves the chat
// routes on the ONNX and GGUF demo models, files and fine-tuning jobs over the home in argv[2], prints
// `listening <port>`, and closes when its stdin ends (the parent closed it, or died).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatModelPool } from '../../src/chat/index.js';
import { GgufEngine, OnnxEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { FineTuneRunner } from '../../src/personalize/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { chatCompletionsRoutes } from '../../src/server/routes/chat-completions.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import { fineTuningJobsRoutes } from '../../src/server/routes/fine-tuning-jobs.js';
import { openStore } from '../../src/store/index.js';

const home = process.argv[2]!;
const store = openStore(home);
const registry = new ModelRegistry(store);
const pool = new ChatModelPool({
  engines: { gguf: () => GgufEngine.create({ threads: 1 }), onnx: async () => new OnnxEngine({ threads: 1 }) },
  contextSize: 1024,
  parallel: 2,
  queue: 16,
});
for (const name of ['atelier-demo-gguf', 'atelier-demo-onnx']) {
  const spec = demoModels.find((m) => m.name === name)!;
  await pool.get(registry.addLocal(await spec.generate(join(home, 'demo-src', name), { seed: 1 }), { name }));
}
// A DreamBooth base model only needs to be installed for a job request to reach its training files.
mkdirSync(join(home, 'base-src'));
writeFileSync(join(home, 'base-src', 'model_index.json'), '{}');
registry.addLocal(join(home, 'base-src'), { name: 'base-sd' });
const runner = new FineTuneRunner({ store, installer: registry });
const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const };
const plugins = [chatCompletionsRoutes(pool), filesRoutes({ maxFileBytes: 64 << 20 }), fineTuningJobsRoutes(runner)];
const app = await createServer({ store, registry, config }, plugins);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${new URL(url).port}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void app.close().then(() => {
    store.close();
    process.exit(0);
  });
});
