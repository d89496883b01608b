// Child process for job-queue.test.ts: one fleet node (its own home, the shared PostgreSQL) that claims jobs from
// the queues named in argv and runs a stand-in for training: numbered steps, each recorded as a job event (its
// checkpoint), resuming after the last recorded step. Prints `ready` once it has joined; SIGTERM leaves cleanly.
import { setTimeout as sleep } from 'node:timers/promises';
import { JobQueue, openStore } from '../../src/store/index.js';

const [url, home, label, capabilities] = process.argv.slice(2) as [string, string, string, string];
const store = openStore(home, { databaseUrl: url });
const queue = await JobQueue.start({
  store,
  databaseUrl: url,
  role: 'worker',
  capabilities: capabilities.split(','),
  queues: ['test', 'gpu'],
  heartbeatMs: 300,
  staleMs: 2500,
  pollMs: 100,
});

queue.work(async ({ data, signal }) => {
  const { jobId, steps, stepMs } = data as { jobId: string; steps: number; stepMs: number };
  const done = store.events
    .since(jobId)
    .filter((e) => e.type === 'metrics')
    .map((e) => Number(e.data?.step));
  for (let step = Math.max(0, ...done) + 1; step <= steps; step += 1) {
    await sleep(stepMs);
    if (signal.aborted) {
      store.events.append({ jobId, level: 'warn', message: `stopped on ${label}` });
      throw signal.reason as Error;
    }
    store.events.append({
      jobId,
      level: 'info',
      type: 'metrics',
      message: `step ${step} on ${label}`,
      data: { step, node: label },
    });
  }
  store.events.append({ jobId, level: 'info', message: `done on ${label}` });
});

process.on('SIGTERM', () => {
  void queue.close().then(() => {
    store.close();
    process.exit(0);
  });
});
process.stdout.write('ready\n');
