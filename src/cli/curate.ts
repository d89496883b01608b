import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { ChatModelPool } from '../chat/index.js';
import { curatePhotos, parseCurationPlan, readPhotoSource, type CurationPlan } from '../personalize/index.js';
import { ApiError, InvalidRequestError } from '../protocol/index.js';
import { imageLimitsFromConfig, vlmPhotoJudge } from '../server/index.js';
import { withContext, writers, type AppContext, type CliDeps } from './context.js';
import { formatTable } from './models.js';
import { chatPoolOf } from './run.js';

/** The VLM `atelier curate` asks when `--model` is not given: the demo one `atelier demo-models` installs. */
export const defaultCurationModel = 'atelier-demo-vlm';

/** What a plan is made with (flags of `atelier curate`, and of `atelier train --curate`). */
export interface PlanRequest {
  /** Folder or zip of photos. */
  source: string;
  /** Installed vision-language chat model. */
  model: string;
  /** The user's class noun (else proposed by majority). */
  className: string | null;
  /** Sampling seed of the VLM (default 0). */
  seed: number;
  /** Smallest accepted short side in px (default 256). */
  minSize?: number;
}

/** What `makePlan` needs of an opened home (the config only for its image limits; default the chat defaults). */
export type PlanContext = Pick<AppContext, 'registry'> & Partial<Pick<AppContext, 'config'>>;

/** Makes a curation plan on the local store's models (no server): reads the photos, asks the VLM about each. */
export async function makePlan(context: PlanContext, pool: ChatModelPool, request: PlanRequest): Promise<CurationPlan> {
  const photos = await readPhotoSource(request.source);
  const model = await pool.get(context.registry.require(request.model));
  const imageLimits = context.config ? imageLimitsFromConfig(context.config) : undefined;
  const judge = vlmPhotoJudge(model, { name: request.model, seed: request.seed, ...(imageLimits && { imageLimits }) });
  return curatePhotos(photos, {
    model: request.model,
    judge,
    className: request.className,
    seed: request.seed,
    ...(request.minSize !== undefined && { minSize: request.minSize }),
  });
}

/** The human form of a plan: one row per photo, then the class noun and its votes. */
export function formatPlan(plan: CurationPlan): string {
  const rows = plan.photos.map((p) => [
    p.name,
    p.keep ? 'keep' : 'drop',
    p.width === null ? '-' : `${p.width}x${p.height}`,
    p.keep ? (p.caption ?? '') : p.reasons.map((r) => `${r.code}: ${r.message}`).join('; '),
  ]);
  const votes = plan.class_votes.map((v) => `${v.noun} ×${v.votes}`).join(', ') || 'none';
  const noun = plan.class_noun === null ? 'none (give --class)' : `${plan.class_noun} (${plan.class_noun_source})`;
  return (
    formatTable(['PHOTO', 'PLAN', 'SIZE', 'CAPTION / WHY DROPPED'], rows) +
    `\nkept ${plan.kept} of ${plan.photos.length}; class noun: ${noun}; votes: ${votes}\n`
  );
}

/** A plan file's JSON; a missing or malformed file is a plain error line, not a stack. */
function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidRequestError(`--plan ${path}: ${(error as Error).message}`);
  }
}

/** The flags of `atelier train` that choose a plan. */
export interface TrainPlanFlags {
  subject?: string;
  class?: string;
  seed?: number;
  resolution?: number;
  /** `--curate [vlm]`: true for the default VLM. */
  curate?: boolean | string;
  /** `--plan <file>`. */
  plan?: string;
}

/**
 * The plan `atelier train` uses: a `--plan` file (checked against the schema), or with `--curate` one made now on
 * the VLM (its table printed to `log`; photos under half the training resolution are too small), or null.
 */
export async function planForTraining(
  context: PlanContext & { pool?: ChatModelPool },
  flags: TrainPlanFlags,
  log: (text: string) => void,
): Promise<CurationPlan | null> {
  if (flags.plan !== undefined) return parseCurationPlan(readJson(flags.plan), '--plan');
  if (flags.curate === undefined || flags.curate === false) return null;
  if (!context.pool) throw new InvalidRequestError('--curate needs chat engines, and this build wires none');
  const plan = await makePlan(context, context.pool, {
    source: flags.subject!,
    model: typeof flags.curate === 'string' ? flags.curate : defaultCurationModel,
    className: flags.class ?? null,
    seed: flags.seed ?? 0,
    ...(flags.resolution !== undefined && { minSize: Math.max(1, flags.resolution / 2) }),
  });
  log(formatPlan(plan));
  return plan;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

interface CurateFlags {
  model: string;
  class?: string;
  json?: boolean;
  seed: number;
  minSize?: number;
}

/**
 * `atelier curate <dir|zip>`: asks a VLM about each photo under the constrained decoder, adds atelier's own checks
 * (decode, size, near-duplicates) and prints the plan — a table, or with `--json` the plan itself
 * (docs/curation-plan.schema.json), ready to edit and give to `atelier train --plan`.
 */
export function registerCurate(program: Command, deps: CliDeps): void {
  program
    .command('curate')
    .description('check subject photos for DreamBooth with a vision model: class noun, captions, photos to drop')
    .argument('<photos>', 'folder (or zip) of subject photos')
    .option('-m, --model <name>', 'vision-language chat model', defaultCurationModel)
    .option('--class <noun>', "the subject's class (default: the VLM's majority answer)")
    .option('--json', 'print the plan as JSON (docs/curation-plan.schema.json)')
    .option('--seed <n>', 'sampling seed of the VLM', integer, 0)
    .option('--min-size <px>', 'smallest accepted short side', integer)
    .action(async (source: string, flags: CurateFlags, command: Command) => {
      const { out, err } = writers(deps);
      await withContext(command, async (context) => {
        const pool = chatPoolOf(deps, context);
        try {
          const plan = await makePlan(context, pool, {
            source,
            model: flags.model,
            className: flags.class ?? null,
            seed: flags.seed,
            ...(flags.minSize !== undefined && { minSize: flags.minSize }),
          });
          out(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
        } catch (error) {
          err(`error: ${error instanceof ApiError ? error.message : ((error as Error).stack ?? String(error))}\n`);
          process.exitCode = 1;
        } finally {
          await pool.dispose();
        }
      });
    });
}
