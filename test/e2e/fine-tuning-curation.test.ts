/**
 * `method.dreambooth.curation` through the official openai client: the server asks the demo VLM about each photo of
 * the uploaded zip before the job starts, drops the near-duplicate and the corrupt photo, records the plan in the
 * job's events, and trains the tiny SD on the kept photos with captions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { zipSync } from 'fflate';
import type { FastifyInstance } from 'fastify';
import OpenAI, { toFile } from 'openai';
import type { JobCreateParams } from 'openai/resources/fine-tuning/jobs/jobs';
import sharp from 'sharp';
import { ChatModelPool } from '../../src/chat/index.js';
import { OnnxEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { FineTuneRunner, type CurationPlan } from '../../src/personalize/index.js';
import { createServer, defaultConfig, vlmPhotoJudge } from '../../src/server/index.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import { fineTuningJobsRoutes } from '../../src/server/routes/fine-tuning-jobs.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeTinySd } from '../personalize/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { terminal, waitFor } from './fine-tuning-server.js';

const VLM = 'atelier-demo-vlm';
const shippedSchema = JSON.parse(
  readFileSync(new URL('../../docs/curation-plan.schema.json', import.meta.url), 'utf8'),
) as object;

/** The client's types only know OpenAI's methods; the curation option rides in the same field. */
function method(dreambooth: Record<string, unknown>): JobCreateParams['method'] {
  return { type: 'dreambooth', dreambooth } as unknown as JobCreateParams['method'];
}

describe('fine-tuning with curation through the openai client', () => {
  let dir: string;
  let store: Store;
  let pool: ChatModelPool;
  let app: FastifyInstance;
  let client: OpenAI;
  let trainingFile: string;
  const workerLog: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-curate-'));
    store = openStore(join(dir, 'home'));
    const registry = new ModelRegistry(store);
    registry.addLocal(makeTinySd(dir), { name: 'tiny-sd' });
    registry.addLocal(await demoModels.find((m) => m.name === VLM)!.generate(join(dir, 'vlm'), { seed: 1 }), {
      name: VLM,
    });
    pool = new ChatModelPool({ engines: { onnx: async () => new OnnxEngine({ threads: 1 }) }, contextSize: 1024 });
    // Wired as src/main.ts wires it.
    const curationJudge = async (name: string, seed: number) =>
      vlmPhotoJudge(await pool.get(registry.require(name)), { name, seed });
    // The worker's stderr (tracebacks) goes into a failed assertion's message.
    const runner = new FineTuneRunner({
      store,
      installer: registry,
      curationJudge,
      log: (line) => workerLog.push(line),
    });
    app = await createServer(
      { store, registry, config: { ...defaultConfig(), home: join(dir, 'home'), logLevel: 'warn' } },
      [filesRoutes(), fineTuningJobsRoutes(runner)],
    );
    client = new OpenAI({
      baseURL: `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    const twin = await sharp(subjectPhoto(1)).modulate({ brightness: 1.05 }).jpeg({ quality: 90 }).toBuffer();
    const zip = zipSync({
      'dog-0.png': subjectPhoto(0),
      'dog-1.png': subjectPhoto(1),
      'dog-1b.jpg': twin,
      'dog-2.png': subjectPhoto(2),
      'dog-3.png': subjectPhoto(3),
      'dog-9.png': subjectPhoto(4).subarray(0, 90),
    });
    trainingFile = (
      await client.files.create({ file: await toFile(Buffer.from(zip), 'photos.zip'), purpose: 'fine-tune' })
    ).id;
  });
  after(async () => {
    await app?.close();
    await pool?.dispose();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hyperparameters = { resolution: 32, n_steps: 1, prior_preservation: false, mode: 'lora' };
  const config = { tracking: { tensorboard: false } };

  it('refuses bad curation options with OpenAI-shaped errors', async () => {
    const create = (curation: unknown) =>
      client.fineTuning.jobs.create({
        model: 'tiny-sd',
        training_file: trainingFile,
        method: method({ hyperparameters, config, curation }),
      });
    const missing = await create({ seed: 1 }).catch((e: unknown) => e);
    assert.ok(missing instanceof OpenAI.BadRequestError);
    assert.equal(missing.param, 'method.dreambooth.curation.model');
    const unknown = await create({ model: VLM, strict: true }).catch((e: unknown) => e);
    assert.ok(unknown instanceof OpenAI.BadRequestError);
    assert.equal(unknown.param, 'method.dreambooth.curation.strict');
    await assert.rejects(create({ model: 'no-such-vlm' }), OpenAI.NotFoundError);
    const noClass = await client.fineTuning.jobs
      .create({ model: 'tiny-sd', training_file: trainingFile, method: method({ hyperparameters, config }) })
      .catch((e: unknown) => e);
    assert.ok(noClass instanceof OpenAI.BadRequestError);
    assert.equal(noClass.param, 'method.dreambooth.hyperparameters.class_name');
  });

  it('curates before the job starts, records the plan in the events, and trains on the kept photos', async () => {
    const job = await client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: trainingFile,
      method: method({
        hyperparameters: { ...hyperparameters, class_name: 'dog' },
        config,
        curation: { model: VLM, seed: 3 },
      }),
    });
    const done = await waitFor(async () => {
      const current = await client.fineTuning.jobs.retrieve(job.id);
      return terminal(current) ? current : undefined;
    });
    assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error)}\n${workerLog.slice(-30).join('\n')}`);
    const events = [];
    for await (const event of client.fineTuning.jobs.listEvents(job.id, { limit: 100 })) events.push(event);
    const curated = events.find((e) => e.message.startsWith(`Curated subject photos by ${VLM}: kept `));
    assert.ok(curated, events.map((e) => e.message).join('\n'));
    assert.match(curated.message, /class noun 'dog' \(given\)$/);
    const plan = (curated.data as { plan: CurationPlan }).plan;
    const validate = new Ajv2020({ strict: false }).compile(shippedSchema);
    assert.ok(validate(plan), JSON.stringify(validate.errors));
    const dropped = Object.fromEntries(plan.photos.filter((p) => !p.keep).map((p) => [p.name, p.reasons[0]!.code]));
    assert.equal(dropped['dog-9.png'], 'decode_failed');
    assert.equal(dropped['dog-1b.jpg'], 'near_duplicate');
    assert.ok(
      events.some(
        (e) => e.level === 'warn' && e.message.startsWith('Dropped photo dog-1b.jpg: near-duplicate of dog-1.png'),
      ),
    );
    const validated = events.find((e) => e.message.startsWith('Validated training files'));
    assert.deepEqual(
      (validated?.data as { images: string[] }).images,
      plan.photos.filter((p) => p.keep).map((p) => p.name),
    );
    const rows = readFileSync(join(dir, 'home', 'fine-tunes', job.id, 'instance', 'metadata.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(rows.length, plan.kept);
    for (const row of rows) assert.match((JSON.parse(row) as { text: string }).text, /^a photo of sks dog(, .+)?$/);
  });
});
