import type { Command } from 'commander';
import { installDemos, type DemoModelSpec, type InstallDemosResult, type ModelRegistry } from '../models/index.js';
import { withContext, writers, type CliDeps } from './context.js';

/**
 * Installs the demo models (those `only` accepts; default all), including the Python-generated ones only when the
 * Python env is ready.
 */
export async function installDemoModels(
  registry: ModelRegistry,
  deps: CliDeps,
  options: { seed?: number; force?: boolean; log: (line: string) => void; only?: (spec: DemoModelSpec) => boolean },
): Promise<InstallDemosResult> {
  return installDemos(registry, deps.demoModels.filter(options.only ?? (() => true)), {
    pythonReady: deps.python.isReady(),
    log: options.log,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.force ? { force: true } : {}),
  });
}

/** `atelier demo-models [--force] [--seed n] [--python]`: generate the tiny demo models into the store. */
export function registerDemoModels(program: Command, deps: CliDeps): void {
  program
    .command('demo-models')
    .description('generate the tiny random-weight demo models into the store under stable names')
    .option('--force', 'regenerate models already installed')
    .option('--seed <n>', 'weight seed (same seed, same bytes)', (v) => {
      if (!/^\d+$/.test(v)) throw new Error(`--seed must be a non-negative integer, got ${JSON.stringify(v)}`);
      return Number(v);
    })
    .option('--python', "set up the diffusion worker's Python environment first, so the diffusers demo is included")
    .action(async (options: { force?: boolean; seed?: number; python?: boolean }, command: Command) => {
      const { out, err } = writers(deps);
      if (options.python) await deps.python.ensure((line) => err(`${line}\n`));
      await withContext(command, async ({ registry }) => {
        const result = await installDemoModels(registry, deps, { ...options, log: (line) => err(`${line}\n`) });
        for (const model of result.present) out(`${model.name}: already installed (use --force to regenerate)\n`);
        for (const model of result.installed) out(`${model.name}: installed (${model.format})\n`);
        for (const skipped of result.skipped) out(`${skipped.name}: skipped — ${skipped.reason}\n`);
        if (result.skipped.some((s) => s.reason.startsWith('generation failed'))) process.exitCode = 1;
      });
    });
}
