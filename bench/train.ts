// DreamBooth training speed and memory: `npm run bench:train [-- --json] [--steps 20] [--gpu-steps 10]`.
//
// Every run goes through atelier's own stack — the TS worker driver → `atelier_diffusion.worker` `train` command →
// Lightning — with prior preservation on (each step holds one instance and one class example).
// 1. CPU, the tiny random-weight fixture at 32 px: steps/s for LoRA and full fine-tuning, and the worker's peak
//    resident memory (VmHWM from /proc).
// 2. When CUDA exists: an SD-1.5-sized model with random weights (UNet 860M, CLIP ViT-L text encoder, SD VAE) at
//    512 px, full and LoRA × presets 8gb/12gb/24gb, through `python -m atelier_diffusion.bench.train_speed` (the same
//    trainer, one process per run): step time and peak VRAM as CUDA's max allocated bytes. Targets: full ≤ 8 GB,
//    LoRA ≤ 6 GB. Without CUDA these rows are reported as skipped.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDreamboothConfig } from '../src/personalize/index.js';
import { ensurePythonEnv, WorkerClient, workerEnv } from '../src/worker/index.js';
import { subjectPhoto } from '../test/personalize/subject-photos.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    steps: { type: 'string', default: '20' },
    'gpu-steps': { type: 'string', default: '10' },
  },
});

/** One measured training run. */
interface RunResult {
  label: string;
  steps: number;
  /** Optimizer steps per second as the worker measures them (model loading and class images excluded). */
  steps_per_s: number | null;
  wall_s: number;
  /** Peak resident set of the worker (CPU runs), MiB. */
  peak_rss_mib: number | null;
  /** Peak GPU memory (CUDA max allocated) of the run (GPU runs), MiB. */
  peak_vram_mib: number | null;
  error?: string;
}

const interpreter = await ensurePythonEnv();

function python(args: string[]): string {
  const result = spawnSync(interpreter, args, { env: workerEnv(), encoding: 'utf8', maxBuffer: 2 ** 24 });
  if (result.status !== 0) throw new Error(`python ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function peakRssMiB(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Trains `base` for `steps` steps through the worker driver with `config` overrides, sampling RSS every 250 ms. */
async function measure(label: string, base: string, work: string, steps: number, extra: Record<string, unknown>) {
  const root = join(work, label.replace(/[^a-z0-9]+/gi, '-'));
  const paths = {
    root,
    instanceDir: join(work, 'photos'),
    outputDir: join(root, 'output'),
    checkpointDir: join(root, 'checkpoints'),
    classImageCache: join(work, 'class-cache'),
  };
  const config = buildDreamboothConfig({
    basePath: base,
    hyperparameters: { className: 'dog', nSteps: steps },
    seed: 0,
    paths,
    overrides: extra,
  });
  let rate: number | null = null;
  let peakRss: number | null = null;
  const started = performance.now();
  const worker = new WorkerClient();
  const run = worker.call(
    'train',
    { config },
    {
      onEvent: (event) => {
        if (event.type === 'progress' && event.stage === 'train' && typeof event.data.steps_per_s === 'number')
          rate = event.data.steps_per_s;
      },
    },
  );
  const sampler = setInterval(() => {
    if (worker.pid === undefined) return;
    const rss = peakRssMiB(worker.pid);
    if (rss !== null) peakRss = Math.max(peakRss ?? 0, rss);
  }, 250);
  const failure = await run.then(
    () => null,
    (error: unknown) => (error as Error).message.slice(-500),
  );
  await worker.close();
  clearInterval(sampler);
  rmSync(root, { recursive: true, force: true });
  const result: RunResult = {
    label,
    steps,
    steps_per_s: rate,
    wall_s: (performance.now() - started) / 1000,
    peak_rss_mib: peakRss,
    peak_vram_mib: null,
  };
  if (failure !== null) result.error = failure;
  return result;
}

const tinyConfig = (mode: string) => ({
  recipe: mode,
  data: { resolution: 32 },
  prior: { num_class_images: 2, sample_steps: 2 },
  checkpoint: { every_n_steps: 1_000_000 },
  tracking: { tensorboard: false },
});

/** Full and LoRA on the SD-1.5-sized random model at 512 px for one preset, via the Python trainer's benchmark. */
function gpuPreset(preset: string, steps: number): RunResult[] {
  // Not python(): a failed run (out of memory) exits 1 but still prints its row with an `error`.
  const run = spawnSync(
    interpreter,
    [
      '-m',
      'atelier_diffusion.bench.train_speed',
      '--size',
      'sd15',
      '--methods',
      'full,lora',
      '--preset',
      preset,
      '--steps',
      String(steps),
      '--json',
    ],
    { env: workerEnv(), encoding: 'utf8', maxBuffer: 2 ** 24 },
  );
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  if (!last.startsWith('{')) throw new Error(`bench_train --preset ${preset} failed:\n${run.stderr.slice(-2000)}`);
  type Row = {
    method: string;
    steps_per_s?: number;
    peak_mib?: number;
    precision?: string;
    optimizer?: string;
    error?: string;
  };
  const { rows } = JSON.parse(last) as { rows: Row[] };
  return rows.map((r) => ({
    // The optimizer shows whether 8-bit Adam ran (bitsandbytes present) or degraded to AdamW.
    label: `sd15 ${r.method} ${preset}${r.optimizer ? ` (${r.precision}, ${r.optimizer})` : ''}`,
    steps,
    steps_per_s: r.steps_per_s ?? null,
    wall_s: Number.NaN,
    peak_rss_mib: null,
    peak_vram_mib: r.peak_mib ?? null,
    ...(r.error ? { error: r.error } : {}),
  }));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}

function row(r: RunResult): string[] {
  const fmt = (x: number | null, digits: number) => (x === null ? 'n/a' : x.toFixed(digits));
  const memory =
    r.peak_vram_mib !== null ? `${fmt(r.peak_vram_mib / 1024, 2)} GiB VRAM` : `${fmt(r.peak_rss_mib, 0)} MiB RSS`;
  const stepTime = r.steps_per_s ? `${(1000 / r.steps_per_s).toFixed(0)} ms` : 'n/a';
  const wall = Number.isNaN(r.wall_s) ? '' : r.wall_s.toFixed(1);
  return [
    r.label,
    String(r.steps),
    fmt(r.steps_per_s, 2),
    stepTime,
    memory,
    wall,
    r.error ? `error: ${r.error.split('\n')[0]}` : '',
  ];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'atelier-bench-train-'));
  try {
    mkdirSync(join(work, 'photos'));
    for (let i = 0; i < 4; i++) writeFileSync(join(work, 'photos', `dog-${i}.png`), subjectPhoto(i, 64));
    const tiny = join(work, 'tiny-sd');
    python(['-m', 'atelier_diffusion.fixtures.tiny', '--out', tiny, '--seed', '0']);
    const steps = Number(flags.steps);
    const cpu: RunResult[] = [];
    for (const mode of ['lora', 'full']) {
      cpu.push(
        await measure(`tiny ${mode} cpu`, tiny, work, steps, { ...tinyConfig(mode), hardware: { accelerator: 'cpu' } }),
      );
    }
    const cuda = python(['-c', 'import torch; print(torch.cuda.is_available())']).trim() === 'True';
    const gpu: RunResult[] = [];
    let gpuSkipped: string | null = 'no CUDA device: the SD-1.5-sized runs need a GPU';
    if (cuda) {
      gpuSkipped = null;
      for (const preset of ['8gb', '12gb', '24gb']) gpu.push(...gpuPreset(preset, Number(flags['gpu-steps'])));
    }
    if (flags.json) {
      console.log(JSON.stringify({ cpu_tiny: cpu, gpu_sd15: gpuSkipped ? { skipped: gpuSkipped } : gpu }));
      return;
    }
    console.log(
      'DreamBooth training through the worker (prior preservation on: 1 instance + 1 class example per step)',
    );
    const header = ['run', 'steps', 'steps/s', 'step time', 'peak memory', 'wall s', ''];
    console.log(table([header, ...cpu.map(row), ...gpu.map(row)]));
    if (gpuSkipped) console.log(`SD-1.5-sized GPU runs: skipped (${gpuSkipped})`);
    else console.log('GPU targets at 512 px: full ≤ 8 GiB, LoRA ≤ 6 GiB peak VRAM (CUDA max allocated)');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
