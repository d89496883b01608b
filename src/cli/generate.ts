import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ImageGenerator } from '../images/index.js';
import { imageSamplers, parseImageRequest } from '../protocol/index.js';
import { WorkerClient } from '../worker/index.js';
import { withContext, writers, type CliDeps } from './context.js';

interface GenerateFlags {
  n: string;
  seed?: string;
  out: string;
  size?: string;
  steps?: string;
  guidance?: string;
  sampler?: string;
  negative?: string;
}

function int(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/**
 * `atelier generate <model> "prompt" -n 4 --seed 1 --out dir/`: text-to-image with a base model or a DreamBooth
 * result, a progress bar on stderr, one `<seed>.png` per image (A1111 `parameters` inside).
 */
export function registerGenerate(program: Command, deps: CliDeps): void {
  program
    .command('generate')
    .description('generate images with a Stable Diffusion model or a DreamBooth result')
    .argument('<model>', 'model name as `atelier models` shows it')
    .argument('<prompt>', 'what to draw, e.g. "a photo of sks dog on the moon"')
    .option('-n <count>', 'number of images (image i uses seed + i)', '1')
    .option('--seed <seed>', 'seed of the first image (default: random)')
    .option('--out <dir>', 'output folder', '.')
    .option('--size <WxH>', "size in pixels, multiples of 8 (default: the model's native size)")
    .option('--steps <steps>', 'denoising steps (default 30)')
    .option('--guidance <scale>', 'classifier-free guidance scale (default 7.5)')
    .option('--sampler <name>', `one of ${imageSamplers.join(', ')} (default euler_a)`)
    .option('--negative <prompt>', 'negative prompt')
    .action(async (modelName: string, prompt: string, flags: GenerateFlags, command: Command) => {
      const { out, err } = writers(deps);
      // Validated exactly like the HTTP API, so the CLI and the server accept and reject the same requests.
      const request = parseImageRequest({
        prompt,
        n: int(flags.n),
        seed: int(flags.seed),
        size: flags.size,
        steps: int(flags.steps),
        guidance_scale: flags.guidance === undefined ? undefined : Number(flags.guidance),
        sampler: flags.sampler,
        negative_prompt: flags.negative,
      });
      await withContext(command, async ({ registry }) => {
        const model = registry.require(modelName);
        await deps.python.ensure((line) => err(`${line}\n`));
        const dir = resolve(flags.out);
        const generator = new ImageGenerator({ worker: new WorkerClient(), outputDir: dir });
        const resolved = generator.resolve(model, request);
        const bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: '{stage} [{bar}] {value}/{total} steps', hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(resolved.steps, 0, { stage: 'loading ' });
        try {
          const images = await generator.generate(
            model,
            { ...request, seed: resolved.seed },
            {
              prefix: `atelier-${resolved.seed}`,
              onProgress: (p) =>
                bar.update(p.stage === 'generate' ? p.step : 0, {
                  stage: p.stage === 'generate' ? 'denoise ' : 'loading ',
                }),
            },
          );
          bar.stop();
          for (const image of images) {
            const target = join(dir, `${image.seed}.png`);
            renameSync(image.path, target);
            out(`${target}\n`);
          }
        } finally {
          bar.stop();
          await generator.close();
        }
      });
    });
}
