import { Command } from 'commander';
import type { CliDeps } from './context.js';
import { registerDemoModels } from './demo-models.js';
import { registerExport } from './export.js';
import { registerGenerate } from './generate.js';
import { registerModels } from './models.js';
import { registerPull } from './pull.js';
import { registerRm } from './rm.js';
import { registerServe } from './serve.js';
import { registerRun } from './run.js';
import { registerChat } from './chat.js';
import { registerTrain } from './train.js';
import { registerCurate } from './curate.js';

export type { AppContext, CliDeps } from './context.js';
export { formatTable } from './models.js';

/**
 * The `atelier` program: global `--home`/`--config`, then one verb per file. Add a verb with one import and one
 * `registerX(program, deps)` line below.
 */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('atelier')
    .version(deps.version)
    .description(
      'self-hosted OpenAI-compatible chat with guaranteed JSON, and DreamBooth personalisation of Stable Diffusion',
    )
    .option('--home <dir>', 'ATELIER_HOME: database, blobs and models (default ~/.atelier)')
    .option('--config <file>', 'config file, YAML or JSON (default ATELIER_CONFIG, else <home>/config.yaml if present)')
    .showHelpAfterError();
  registerServe(program, deps);
  registerPull(program, deps);
  registerModels(program, deps);
  registerRm(program, deps);
  registerDemoModels(program, deps);
  registerGenerate(program, deps);
  registerExport(program, deps);
  registerRun(program, deps);
  registerChat(program, deps);
  registerTrain(program, deps);
  registerCurate(program, deps);
  return program;
}
