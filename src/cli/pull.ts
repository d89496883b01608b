import type { Command } from 'commander';
import { pull } from '../models/index.js';
import { formatBytes } from '../util/index.js';
import { withContext, writers, type CliDeps } from './context.js';
import { ProgressBarReporter } from './progress-bar.js';

/** `atelier pull <repo>[@rev] [--include glob...] [--name name]`: download a model from the HF hub layout. */
export function registerPull(program: Command, deps: CliDeps): void {
  program
    .command('pull')
    .description(
      'download a model repo from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN) and install it; resumes interrupted downloads',
    )
    .argument('<repo>', 'org/name, optionally @branch, @tag or @commit')
    .option(
      '--include <glob...>',
      "only files matching these globs (e.g. '*Q4_K_M.gguf'); a glob without / matches names in any folder",
    )
    .option('--name <name>', 'install under this name instead of org/name')
    .action(async (repo: string, options: { include?: string[]; name?: string }, command: Command) => {
      const { out } = writers(deps);
      await withContext(command, async ({ registry }) => {
        const reporter = new ProgressBarReporter();
        const model = await pull(registry, {
          spec: repo,
          reporter,
          ...(options.include ? { include: options.include } : {}),
          ...(options.name ? { name: options.name } : {}),
        }).finally(() => reporter.stop());
        out(
          `installed ${model.name} (${model.format}, ${formatBytes(model.size)}) from ${model.source}@${model.revision?.slice(0, 12)}\n`,
        );
      });
    });
}
