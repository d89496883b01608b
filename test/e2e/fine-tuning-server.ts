import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import type { FineTuningJob, JobCreateParams } from 'openai/resources/fine-tuning/jobs/jobs';
import { ImageGenerator } from '../../src/images/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { FineTuneRunner } from '../../src/personalize/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import { fineTuningJobsRoutes } from '../../src/server/routes/fine-tuning-jobs.js';
import { imageRoutes } from '../../src/server/routes/images.js';
import { openStore, type Store } from '../../src/store/index.js';
import { WorkerClient } from '../../src/worker/index.js';
import { tinyRun } from '../personalize/fixtures.js';

/** Helpers of the fine-tuning e2e tests. */

/** One "server process": store, runner and HTTP app over an ATELIER_HOME. */
export interface Server {
  store: Store;
  runner: FineTuneRunner;
  app: FastifyInstance;
  client: OpenAI;
}

/** Opens the store in `home` and serves files, fine-tuning and image routes on 127.0.0.1, port 0 (the runner starts on ready). */
export async function startServer(home: string): Promise<Server> {
  const store = openStore(home);
  const registry = new ModelRegistry(store);
  const runner = new FineTuneRunner({ store, installer: registry });
  const config = { ...defaultConfig(), home, logLevel: 'warn' as const };
  const images = new ImageGenerator({ worker: new WorkerClient(), outputDir: join(home, 'images') });
  const plugins = [filesRoutes(), fineTuningJobsRoutes(runner), imageRoutes(images)];
  const app = await createServer({ store, registry, config }, plugins);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { store, runner, app, client: new OpenAI({ baseURL: `${address}/v1`, apiKey: 'unused', maxRetries: 0 }) };
}

/** Shuts a server down as a process exit would: HTTP and runner (the worker gets SIGTERM), then the database. */
export async function stopServer(server: Server): Promise<void> {
  await server.app.close();
  server.store.close();
}

/** The client's types only know OpenAI's methods; atelier's DreamBooth method rides in the same field. */
export function dreambooth(
  hyperparameters: Record<string, unknown>,
  config: object = tinyRun.config,
): JobCreateParams['method'] {
  return { type: 'dreambooth', dreambooth: { hyperparameters, config } } as unknown as JobCreateParams['method'];
}

/** Polls `what` until it returns a value (no timing assertion: the test runner's timeout bounds it). */
export async function waitFor<T>(what: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    await sleep(250);
  }
}

/** Whether a job reached a final status. */
export const terminal = (job: FineTuningJob) => ['succeeded', 'failed', 'cancelled'].includes(job.status);
