// DreamBench-mini: the DreamBooth paper's evaluation in miniature, through atelier's own trainer and sampler.
//
//   npm run bench:dreambench [-- --scale full|quick] [--subjects N] [--base DIR] [--threads N] [--record] [--json]
//
// --base skips the benchmark's own base model (e.g. to check the wiring on the tiny fixture). --threads (default 1)
// sets OMP_NUM_THREADS for every Python process: on a shared machine, OpenMP threads spinning at barriers while
// other processes hold the cores made 2-thread sampling 35× slower than 1-thread; use 2 only on an idle machine.
//
// 1. Python `atelier_diffusion.bench.dreambench prepare`: the measurer (cached; must read every attribute at ≥ 95 %),
//    the base model (cached by config hash; trained from scratch on drawn scenes), the subjects' 4 photos each.
// 2. Each subject is fine-tuned three ways by atelier's worker `train` command, the one every fine-tuning job runs
//    (config built by `buildDreamboothConfig`): full with prior preservation, full without, LoRA with.
// 3. Every model (and the base) draws the evaluation prompts through the resident image worker's `generate`.
// 4. Python `score` measures every image; tables like the paper's Table 1 and Table 3, a grid, and (with
//    --record) the section of docs/BENCHMARKS.md. Protocol and metric definitions: docs/dreambench.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildDreamboothConfig } from '../src/personalize/index.js';
import { callOnce, ensurePythonEnv, WorkerClient, workerEnv } from '../src/worker/index.js';
import type { DreamboothHyperparameters } from '../src/protocol/index.js';
import {
  checkTargets,
  recordSection,
  table1,
  table3,
  targetTable,
  variantLabels,
  type Metrics,
} from './dreambench-report.js';

interface Prompt {
  kind: 'subject' | 'class';
  text: string;
  background: string | null;
}
interface Subject {
  name: string;
  cls: string;
  instance_dir: string;
  instance_prompt: string;
  class_prompt: string;
  prompts: Prompt[];
}
interface Prepared {
  base_model: string;
  size: number;
  subjects: Subject[];
  measurer: { heldout_accuracy: Record<string, number> };
}
interface ManifestRow {
  model: string;
  subject: string;
  kind: string;
  prompt: string;
  background: string | null;
  seed: number;
  path: string;
}

/** Fine-tuning recipes per variant. The paper's lr 5e-6 × 800 steps is for a pretrained SD; a small model trained
 *  from scratch moves in far fewer steps at a higher rate. Same steps for all variants so they compare fairly. Full
 *  fine-tunes at 2e-4 overfitted to the four training backgrounds (prompt fidelity 0.425 vs the base's 0.662 in the
 *  first full run); 1e-4 keeps the subject (same fidelity) and the prompt (0.612). */
const variants: Record<string, DreamboothHyperparameters> = {
  dreambooth: { mode: 'full', priorPreservation: true, learningRate: 1e-4 },
  dreambooth_no_prior: { mode: 'full', priorPreservation: false, learningRate: 1e-4 },
  lora: { mode: 'lora', priorPreservation: true, learningRate: 2e-3, loraRank: 8 },
};
/** Per scale: optimiser steps, class images, seeds per subject prompt and per class prompt. */
const scales = {
  full: { steps: 200, classImages: 64, subjectSeeds: 4, classSeeds: 10 },
  quick: { steps: 30, classImages: 8, subjectSeeds: 2, classSeeds: 4 },
} as const;
/** Sampler settings for every image (also used for class images via the trainer's own defaults). */
const sampling = { sampler: 'ddim', steps: 25, guidance_scale: 3.0 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Environment for every Python process of the benchmark (see --threads). */
const threadEnv = { OMP_NUM_THREADS: arg('threads') ?? '1', MKL_NUM_THREADS: arg('threads') ?? '1' };

const interpreter = await ensurePythonEnv();

function python(args: string[]): unknown {
  const run = spawnSync(interpreter, ['-m', 'atelier_diffusion.bench.dreambench', ...args], {
    env: workerEnv(threadEnv),
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0) throw new Error(`dreambench ${args[0]} failed (exit ${run.status ?? run.signal})`);
  return JSON.parse(run.stdout.toString('utf8'));
}

async function train(
  subject: Subject,
  variant: string,
  prepared: Prepared,
  out: string,
  scale: keyof typeof scales,
): Promise<{ path: string; mode: string | null }> {
  const root = join(out, 'runs', subject.name, variant);
  rmSync(root, { recursive: true, force: true });
  const hp: DreamboothHyperparameters = {
    ...variants[variant],
    className: subject.cls,
    instancePrompt: subject.instance_prompt,
    classPrompt: subject.class_prompt,
    nSteps: scales[scale].steps,
    batchSize: 2,
    numClassImages: scales[scale].classImages,
    checkpointEvery: scales[scale].steps,
  };
  const config = buildDreamboothConfig({
    basePath: prepared.base_model,
    hyperparameters: hp,
    seed: 0,
    paths: {
      root,
      instanceDir: subject.instance_dir,
      outputDir: join(root, 'output'),
      checkpointDir: join(root, 'checkpoints'),
      classImageCache: join(out, 'class-images'),
    },
    overrides: {
      data: { resolution: prepared.size },
      prior: { sample_steps: sampling.steps, guidance_scale: sampling.guidance_scale },
      train: { lr_scheduler: 'constant', max_grad_norm: 1.0 },
      tracking: { tensorboard: false, log_every_n_steps: 50 },
    },
  });
  const result = await callOnce(
    'train',
    { config },
    {
      env: threadEnv,
      onEvent: (e) => {
        if (e.type === 'metric') process.stderr.write(`  ${subject.name} ${variant} ${JSON.stringify(e)}\n`);
      },
    },
  ).catch((error: unknown) => {
    throw new Error(`training ${subject.name}/${variant} failed: ${(error as Error).message}`);
  });
  if (!result.path) throw new Error(`training ${subject.name}/${variant} answered without an output folder`);
  return { path: result.path, mode: result.mode };
}

async function sampleAll(
  images: WorkerClient,
  model: string,
  source: Record<string, unknown>,
  subject: Subject,
  dir: string,
  size: number,
  scale: keyof typeof scales,
): Promise<ManifestRow[]> {
  mkdirSync(dir, { recursive: true });
  const rows: ManifestRow[] = [];
  for (const [p, prompt] of subject.prompts.entries()) {
    const n = prompt.kind === 'subject' ? scales[scale].subjectSeeds : scales[scale].classSeeds;
    // Seeds differ per prompt index, but are the same for every model: models are compared on identical noise.
    const seed = 1000 * (p + 1);
    const result = await images.call('generate', {
      model: source,
      out_dir: dir,
      prefix: `p${p}`,
      prompt: prompt.text,
      n,
      seed,
      width: size,
      height: size,
      ...sampling,
    });
    for (const image of result.data.images as { path: string; seed: number }[]) {
      rows.push({
        model,
        subject: subject.name,
        kind: prompt.kind,
        prompt: prompt.text,
        background: prompt.background,
        seed: image.seed,
        path: image.path,
      });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const scale = (arg('scale') ?? 'full') as keyof typeof scales;
  if (!(scale in scales)) throw new Error(`--scale must be one of ${Object.keys(scales).join(', ')}`);
  const out = resolve(`bench/out/dreambench-${scale}${arg('base') ? '-custom-base' : ''}`);
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const base = arg('base');
  const prepared = python([
    'prepare',
    '--out',
    out,
    '--scale',
    scale,
    ...(base ? ['--base', resolve(base)] : []),
  ]) as Prepared;
  const tPrepared = performance.now();
  const subjects = prepared.subjects.slice(0, Number(arg('subjects') ?? prepared.subjects.length));
  const images = new WorkerClient({ env: { ...threadEnv, ATELIER_MODEL_CACHE_MB: '512' } });
  const rows: ManifestRow[] = [];
  try {
    for (const subject of subjects) {
      process.stderr.write(`dreambench: ${subject.name}\n`);
      rows.push(
        ...(await sampleAll(
          images,
          'base',
          { path: prepared.base_model },
          subject,
          join(out, 'samples', subject.name, 'base'),
          prepared.size,
          scale,
        )),
      );
      for (const variant of Object.keys(variants)) {
        const result = await train(subject, variant, prepared, out, scale);
        const source =
          result.mode === 'lora' ? { path: prepared.base_model, lora: result.path } : { path: result.path };
        rows.push(
          ...(await sampleAll(
            images,
            variant,
            source,
            subject,
            join(out, 'samples', subject.name, variant),
            prepared.size,
            scale,
          )),
        );
      }
    }
  } finally {
    await images.close();
  }
  const manifest = join(out, 'manifest.json');
  writeFileSync(manifest, JSON.stringify(rows, null, 1));
  const grid = join(out, 'grid.png');
  const scored = python(['score', '--manifest', manifest, '--grid', grid]) as {
    results: Record<string, { mean: Metrics; subjects: Record<string, Metrics> }>;
  };
  const seconds = (performance.now() - tPrepared) / 1000;
  const means = Object.fromEntries(Object.entries(scored.results).map(([k, v]) => [k, v.mean]));
  const checks = checkTargets(means, seconds);
  const extra = ['subjects', 'base', 'threads']
    .filter((k) => arg(k))
    .map((k) => ` --${k} ${arg(k)}`)
    .join('');
  const command = `npm run bench:dreambench -- --scale ${scale}${extra}`;
  const accuracy = Object.entries(prepared.measurer.heldout_accuracy)
    .map(([k, v]) => `${k} ${(100 * v).toFixed(1)} %`)
    .join(', ');
  const body = [
    '## DreamBench-mini',
    '',
    `Command: \`${command}\` (${new Date().toISOString().slice(0, 10)}, CPU; ${base ? `base model ${base}` : `base model cached (${scale} config)`}; ` +
      `${subjects.length} subject(s); ` +
      `${rows.length} images; prepare ${((tPrepared - t0) / 1000).toFixed(0)} s, fine-tune + sample + score ${seconds.toFixed(0)} s).`,
    `Measurer held-out accuracy: ${accuracy}. Grid: \`${grid.replace(`${resolve('.')}/`, '')}\`. Definitions: docs/dreambench.md.`,
    '',
    'Table 1 (paper: DINO / CLIP-I → subject fidelity, CLIP-T → prompt fidelity)',
    '',
    table1(means),
    '',
    'Table 3 (prior preservation)',
    '',
    table3(means),
    '',
    targetTable(checks),
  ].join('\n');
  console.log(`\n${body}\n`);
  if (process.argv.includes('--record')) recordSection(resolve('docs/BENCHMARKS.md'), body);
  if (process.argv.includes('--json')) {
    console.log(
      JSON.stringify({
        scale,
        subjects: subjects.map((s) => s.name),
        seconds,
        means,
        per_subject: scored.results,
        targets: checks,
        grid,
        labels: variantLabels,
      }),
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
