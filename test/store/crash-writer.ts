// Child process for crash.test.ts: commits jobs (each with an event and a blob) in a loop and reports each commit on
// stdout, until the parent kills it with SIGKILL mid-stream.
import { openStore } from '../../src/store/index.js';

const store = openStore(process.argv[2]!);
for (let i = 0; ; i += 1) {
  const blob = await store.blobs.put(`payload ${i} `.repeat(2000));
  store.transaction(() => {
    store.jobs.create({
      id: `ftjob-${i}`,
      kind: 'fine_tuning',
      model: 'm',
      hyperparameters: { i },
      params: { blob: blob.sha256 },
    });
    store.events.append({ jobId: `ftjob-${i}`, level: 'info', message: `event ${i}` });
  });
  process.stdout.write(`committed ${i}\n`);
}
