// Image generation speed: `npm run bench:images [-- --json] [--steps 20] [--requests 5] [--threads N]`.
//
// 1. End to end through atelier's own stack (ImageGenerator → resident Python worker → PNGs) on the tiny fixture on
//    CPU: first-request time (model load included), warm latency for one image, warm throughput for n=4.
// 2. The sampling loop against a plain diffusers StableDiffusionPipeline on the same weights
//    (python -m atelier_diffusion.bench.sample_speed): tiny on CPU always; SD-1.5-sized, 512 px, 30 steps when CUDA
//    exists (reported as skipped otherwise). Target on GPU: atelier / diffusers ≤ 1.0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImageGenerator } from '../src/images/index.js';
import { ensurePythonEnv, WorkerClient, workerEnv } from '../src/worker/index.js';
import { parseImageRequest } from '../src/protocol/index.js';
import type { ModelRecord } from '../src/store/index.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    steps: { type: 'string', default: '20' },
    requests: { type: 'string', default: '5' },
    threads: { type: 'string', default: '0' },
  },
});
const steps = Number(flags.steps);
const requests = Number(flags.requests);
/** torch CPU threads in the worker and the comparison (0: torch's default, one per core). */
const threads = Number(flags.threads);

const interpreter = await ensurePythonEnv();

function python(args: string[]): string {
  const result = spawnSync(interpreter, args, { env: workerEnv(), encoding: 'utf8', maxBuffer: 2 ** 24 });
  if (result.status !== 0) throw new Error(`python ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

async function seconds<T>(fn: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/** atelier end to end on the tiny model (CPU unless the worker finds CUDA). */
async function endToEnd(tiny: string, out: string) {
  const model: ModelRecord = {
    name: 'tiny-sd',
    format: 'diffusers',
    path: tiny,
    size: 0,
    source: 'bench',
    revision: null,
    metadata: {},
    createdAt: 0,
  };
  const env: Record<string, string> = threads > 0 ? { ATELIER_TORCH_THREADS: String(threads) } : {};
  const generator = new ImageGenerator({ worker: new WorkerClient({ env }), outputDir: out });
  const request = (n: number, seed: number) =>
    parseImageRequest({ prompt: 'a photo of sks dog on the moon', n, seed, steps, size: '32x32' });
  try {
    const cold = await seconds(() => generator.generate(model, request(1, 0)));
    let latency = 0;
    let batch = 0;
    for (let i = 0; i < requests; i++) {
      latency += await seconds(() => generator.generate(model, request(1, i)));
      batch += await seconds(() => generator.generate(model, request(4, i)));
    }
    return {
      cold_s: cold,
      latency_s: latency / requests,
      images_per_s_n1: requests / latency,
      images_per_s_n4: (4 * requests) / batch,
    };
  } finally {
    await generator.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}

type Comparison = {
  skipped?: string;
  device?: string;
  latency?: Record<string, number>;
  throughput?: Record<string, number>;
};

function comparisonRows(label: string, c: Comparison): string[][] {
  if (c.skipped) return [[label, 'skipped', c.skipped, '', '']];
  const fmt = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(3));
  return (['latency', 'throughput'] as const).map((kind) => [
    `${label} ${kind} (${c.device})`,
    fmt(c[kind]?.atelier_s),
    fmt(c[kind]?.diffusers_s),
    fmt(c[kind]?.ratio),
    fmt(c[kind]?.atelier_images_per_s),
  ]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-images-'));
  try {
    const tiny = join(dir, 'tiny-sd');
    python(['-m', 'atelier_diffusion.fixtures.tiny', '--out', tiny, '--seed', '0']);
    const e2e = await endToEnd(tiny, join(dir, 'out'));
    const common = ['--steps', String(steps), '--repeats', '3', '--batch', '4', '--threads', String(threads)];
    const tinyCmp = JSON.parse(
      python(['-m', 'atelier_diffusion.bench.sample_speed', '--model', 'tiny', '--tiny-path', tiny, ...common]),
    ) as Comparison;
    const sd15 = JSON.parse(
      python([
        '-m',
        'atelier_diffusion.bench.sample_speed',
        '--model',
        'sd15',
        '--steps',
        '30',
        '--repeats',
        '3',
        '--batch',
        '4',
      ]),
    ) as Comparison;
    if (flags.json) {
      console.log(
        JSON.stringify({
          steps,
          requests,
          threads,
          end_to_end_tiny: e2e,
          vs_diffusers_tiny: tinyCmp,
          vs_diffusers_sd15: sd15,
        }),
      );
      return;
    }
    console.log(
      `atelier end to end, tiny model 32x32, ${steps} steps, Euler a, CFG 7.5, torch threads ${threads || 'default'}`,
    );
    console.log(
      table([
        ['first request (load)', 'latency n=1', 'images/s n=1', 'images/s n=4'],
        [
          `${e2e.cold_s.toFixed(2)} s`,
          `${e2e.latency_s.toFixed(3)} s`,
          e2e.images_per_s_n1.toFixed(2),
          e2e.images_per_s_n4.toFixed(2),
        ],
      ]),
    );
    console.log('\nsampling loop vs plain diffusers StableDiffusionPipeline (same weights; ratio ≤ 1.0 is the target)');
    console.log(
      table([
        ['run', 'atelier s', 'diffusers s', 'ratio', 'atelier images/s'],
        ...comparisonRows(`tiny ${steps} steps`, tinyCmp),
        ...comparisonRows('SD-1.5-sized 512px 30 steps', sd15),
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
