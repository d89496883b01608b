import type { Command } from 'commander';
import { resolve } from 'node:path';
import { exportFormats, exportModel, type ExportFormat } from '../images/index.js';
import { withContext, writers, type CliDeps } from './context.js';

/** File or folder name an export gets when `--out` is not given. */
function defaultOut(model: string, format: ExportFormat): string {
  const slug = model.replace(/[^A-Za-z0-9._-]+/g, '-');
  if (format === 'diffusers') return `${slug}-diffusers`;
  return format.startsWith('lora-') ? `${slug}-${format}.safetensors` : `${slug}.safetensors`;
}

/**
 * `atelier export <model> --format diffusers|safetensors|lora-kohya|lora-diffusers [--out path]`: writes the model
 * where A1111, ComfyUI or diffusers load it; `atelier models add <path>` imports it back.
 */
export function registerExport(program: Command, deps: CliDeps): void {
  program
    .command('export')
    .description('export a Stable Diffusion model or DreamBooth result for A1111, ComfyUI or diffusers')
    .argument('<model>', 'model name as `atelier models` shows it')
    .requiredOption('--format <format>', exportFormats.join(' | '))
    .option('--out <path>', 'output file (folder for diffusers); default ./<model>.<ext>')
    .action(async (modelName: string, flags: { format: string; out?: string }, command: Command) => {
      const { out, err } = writers(deps);
      if (!(exportFormats as readonly string[]).includes(flags.format)) {
        throw new Error(`--format must be one of ${exportFormats.join(', ')}`);
      }
      const format = flags.format as ExportFormat;
      await withContext(command, async ({ registry }) => {
        const model = registry.require(modelName);
        await deps.python.ensure((line) => err(`${line}\n`));
        err(`exporting ${model.name} as ${format}…\n`);
        const result = await exportModel(model, format, resolve(flags.out ?? defaultOut(model.name, format)));
        out(`${result.path}\n`);
      });
    });
}
