#!/usr/bin/env node
// Composition root and the `atelier` bin: the only place concrete engines, stores and generators are wired together.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram, type AppContext, type CliDeps } from './cli/index.js';
import { ImageGenerator } from './images/index.js';
import { demoModels } from './models/demo/index.js';
import { FineTuneRunner, fineTuningQueue } from './personalize/index.js';
import { JobQueue } from './store/index.js';
import { PythonEnv, WorkerClient } from './worker/index.js';
import { imageLimitsFromConfig, vlmPhotoJudge, type RoutePlugin } from './server/index.js';
import { imageRoutes } from './server/routes/images.js';
import { ChatModelPool } from './chat/index.js';
import { GgufEngine, OnnxEngine } from './engines/index.js';
import { chatCompletionsRoutes } from './server/routes/chat-completions.js';
import { responsesRoutes } from './server/routes/responses.js';
import { filesRoutes } from './server/routes/files.js';
import { fineTuningJobsRoutes } from './server/routes/fine-tuning-jobs.js';
import { fineTuningJobDeleteRoutes } from './server/routes/fine-tuning-job-delete.js';
import { fineTuningJobSampleRoutes } from './server/routes/fine-tuning-job-samples.js';
import { curationRoutes } from './server/routes/curation.js';
import { studioRoutes } from './server/routes/studio.js';
import { fleetRoutes } from './server/routes/fleet.js';
import { documentPagesRoutes } from './server/routes/document-pages.js';

const packageJson = join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;

/**
 * Route plugins of every resource beyond /health and /v1/models, built once the home is open. Wire new resources
 * here (chat completions, images, files, fine-tuning): one line each, e.g. `chatRoutes(engines)`.
 */
async function routes(context: AppContext): Promise<RoutePlugin[]> {
  const threads: Record<string, string> =
    context.config.threads > 0 ? { ATELIER_TORCH_THREADS: String(context.config.threads) } : {};
  const images = new ImageGenerator({
    worker: new WorkerClient({ env: threads }),
    outputDir: join(context.store.layout.root, 'images'),
  });
  // One pool for both chat endpoints: they share loaded models and admission (chat completions disposes it).
  const pool = chatPool(context);
  const imageLimits = imageLimitsFromConfig(context.config);
  // Curation (`method.dreambooth.curation`) asks a VLM from the same pool about each subject photo.
  const curationJudge = async (name: string, seed: number) =>
    vlmPhotoJudge(await pool.get(context.registry.require(name)), { name, seed, imageLimits });
  const queue = context.config.databaseUrl ? await fleetQueue(context) : undefined;
  const fineTuning = new FineTuneRunner({
    store: context.store,
    installer: context.registry,
    curationJudge,
    ...(queue && { queue }),
  });
  return [
    imageRoutes(images),
    chatCompletionsRoutes(pool, images),
    responsesRoutes(pool, images),
    filesRoutes(),
    fineTuningJobsRoutes(fineTuning),
    fineTuningJobDeleteRoutes(fineTuning),
    fineTuningJobSampleRoutes(fineTuning),
    curationRoutes(curationJudge),
    studioRoutes(),
    documentPagesRoutes(),
    ...(queue ? [fleetRoutes(queue)] : []),
  ];
}

/**
 * Fleet mode (`databaseUrl` set): this node joins the job queue. Nodes that train (role `worker` or `all`, with the
 * Python worker enabled) advertise the fine-tuning queue and claim only from it; `api` nodes only enqueue.
 */
function fleetQueue(context: AppContext): Promise<JobQueue> {
  const { databaseUrl, role, python } = context.config;
  const trains = role !== 'api' && python;
  return JobQueue.start({
    store: context.store,
    databaseUrl,
    role,
    capabilities: trains ? [fineTuningQueue] : [],
    queues: [fineTuningQueue],
  });
}

/** Chat models load lazily on first request, with the configured threads (0 = all cores), context sizes and KV cache. */
function chatPool(context: AppContext): ChatModelPool {
  const { threads, contextSize, modelContextSizes, kvCacheType } = context.config;
  return new ChatModelPool({
    engines: {
      gguf: () => GgufEngine.create({ ...(threads > 0 && { threads }), kvCacheType }),
      onnx: async () => new OnnxEngine(threads > 0 ? { threads } : {}),
    },
    contextSize,
    contextSizes: modelContextSizes,
  });
}

const deps: CliDeps = {
  version,
  demoModels,
  python: new PythonEnv(),
  routes,
  chatPool,
};

buildProgram(deps)
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`atelier: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.ATELIER_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
