import type { Command } from 'commander';
import { formatBytes } from '../util/index.js';
import { withContext, writers, type CliDeps } from './context.js';

/** `atelier rm <name...>`: unregister models and delete their files from the store. */
export function registerRm(program: Command, deps: CliDeps): void {
  program
    .command('rm')
    .description('remove installed models (their files in the store are deleted; originals of `models add` are kept)')
    .argument('<name...>', 'model names as `atelier models` shows them')
    .action(async (names: string[], _options: unknown, command: Command) => {
      const { out } = writers(deps);
      await withContext(command, ({ registry }) => {
        // Check every name first so a typo in the last one does not leave the earlier ones half-removed.
        const models = names.map((name) => registry.require(name));
        for (const model of models) {
          registry.remove(model.name);
          out(`removed ${model.name} (${formatBytes(model.size)} freed)\n`);
        }
      });
    });
}
