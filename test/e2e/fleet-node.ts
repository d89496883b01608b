// Child process for fleet.test.ts: one atelier node (its own home, the shared PostgreSQL and blob folder) serving
// files, fine-tuning, images and /v1/fleet on 127.0.0.1. Prints `{"address": …}` once listening; SIGTERM stops it.
import { join } from 'node:path';
import { ImageGenerator } from '../../src/images/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { FineTuneRunner, fineTuningQueue } from '../../src/personalize/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import { fineTuningJobsRoutes } from '../../src/server/routes/fine-tuning-jobs.js';
import { fleetRoutes } from '../../src/server/routes/fleet.js';
import { imageRoutes } from '../../src/server/routes/images.js';
import { JobQueue, openStore, type NodeRole } from '../../src/store/index.js';
import { WorkerClient } from '../../src/worker/index.js';

const [databaseUrl, home, blobDir, role] = process.argv.slice(2) as [string, string, string, NodeRole];
const store = openStore(home, { databaseUrl, blobDir });
const registry = new ModelRegistry(store);
const queue = await JobQueue.start({
  store,
  databaseUrl,
  role,
  capabilities: role === 'api' ? [] : [fineTuningQueue],
  queues: [fineTuningQueue],
  heartbeatMs: 500,
  staleMs: 4000,
});
const runner = new FineTuneRunner({ store, installer: registry, queue });
const config = { ...defaultConfig(), home, logLevel: 'warn' as const, databaseUrl, blobDir, role };
const images = new ImageGenerator({ worker: new WorkerClient(), outputDir: join(home, 'images') });
const plugins = [filesRoutes(), fineTuningJobsRoutes(runner), imageRoutes(images), fleetRoutes(queue)];
const app = await createServer({ store, registry, config }, plugins);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.on('SIGTERM', () => {
  void app.close().then(() => {
    store.close();
    process.exit(0);
  });
});
process.stdout.write(`${JSON.stringify({ address, nodeId: queue.nodeId })}\n`);
