import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { ModelRegistry } from '../models/index.js';
import {
  FineTuneRunner,
  formatDuration,
  mergeConfig,
  safeName,
  TrainProgress,
  type CurationPlan,
} from '../personalize/index.js';
import type { ChatModelPool } from '../chat/index.js';
import { ApiError, InvalidRequestError, parseFineTuningJobCreate } from '../protocol/index.js';
import type { Store } from '../store/index.js';
import { newId } from '../util/index.js';
import { withContext, writers, type AppContext, type CliDeps } from './context.js';
import { integer, number, parseSet, readConfigFile, takeTrainConfig } from './train-flags.js';
import { defaultCurationModel, planForTraining } from './curate.js';
import { chatPoolOf } from './run.js';

/** Options of `atelier train` as commander parses them. */
export interface TrainOptions {
  subject?: string;
  class?: string;
  model?: string;
  config?: string;
  preset?: string;
  mode?: string;
  steps?: number;
  lr?: number;
  resolution?: number;
  /** Adapter kind for LoRA mode: lora | lokr | loha (the worker's `lora.adapter`). */
  adapter?: string;
  identifier?: string;
  instancePrompt?: string;
  classPrompt?: string;
  prior: boolean;
  classImages?: number;
  checkpointEvery?: number;
  seed?: number;
  suffix?: string;
  set: string[];
  resume?: string;
  /** Curate the photos first: true (the default VLM) or a VLM's name. */
  curate?: boolean | string;
  /** Train from a curation plan file (`atelier curate --json`, maybe edited). */
  plan?: string;
}

/** Where `atelier train` writes: the result line to `out`, everything else to `err` (tests capture both). */
export interface TrainIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The terminal for redrawing progress bars; none: plain progress lines. */
  tty?: NodeJS.WriteStream | null;
}

const photoExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/**
 * Stores the subject photos (a folder of images, or one zip) as `fine-tune` files; returns their ids. With a plan,
 * a folder's dropped photos stay behind (a corrupt one would fail the upload check); a zip is filtered by the job.
 */
async function uploadSubject(store: Store, subject: string, plan: CurationPlan | null): Promise<string[]> {
  const dropped = new Set(plan?.photos.filter((p) => !p.keep).map((p) => p.name));
  const path = resolve(subject);
  if (!existsSync(path)) throw new InvalidRequestError(`--subject ${subject}: no such file or folder`);
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((name) => photoExtensions.has(extname(name).toLowerCase()) && !name.startsWith('.'))
        .filter((name) => !dropped.has(safeName(name)))
        .sort()
        .map((name) => join(path, name))
    : [path];
  if (files.length === 0) throw new InvalidRequestError(`--subject ${subject}: no .png/.jpg/.jpeg/.webp photos there`);
  const ids: string[] = [];
  for (const file of files) {
    const blob = await store.blobs.put(readFileSync(file));
    const id = newId('file');
    store.files.insert({
      id,
      filename: basename(file),
      purpose: 'fine-tune',
      bytes: blob.size,
      sha256: blob.sha256,
      status: 'processed',
      metadata: { source: file },
      createdAt: Math.floor(Date.now() / 1000),
    });
    ids.push(id);
  }
  return ids;
}

/** The base model: `--model` (an installed name, or a path imported into the store), else the only SD model. */
function resolveBase(store: Store, registry: ModelRegistry, model: string | undefined): string {
  if (model !== undefined) {
    if (store.models.get(model)) return model;
    if (!existsSync(model)) throw new InvalidRequestError(`--model ${model}: not an installed model nor a path`);
    const source = `local:${resolve(model)}`;
    return store.models.list().find((m) => m.source === source)?.name ?? registry.addLocal(model).name;
  }
  const candidates = store.models.list().filter((m) => m.format === 'diffusers' || m.format === 'sd-checkpoint');
  if (candidates.length === 1) return candidates[0]!.name;
  const names = candidates.map((m) => m.name).join(', ') || 'none installed';
  throw new InvalidRequestError(`choose the base model with --model (Stable Diffusion models: ${names})`);
}

/** Builds and validates the job request from the flags, exactly as the HTTP API would receive it. */
async function createJob(context: TrainContext, runner: FineTuneRunner, options: TrainOptions, io: TrainIo) {
  const { store, registry } = context;
  if (!options.subject) throw new InvalidRequestError('--subject is required (a folder or zip of 3+ photos)');
  const fileConfig = options.config ? readConfigFile(options.config) : null;
  const adapter = options.adapter === undefined ? [] : [{ lora: { adapter: options.adapter } }];
  const overrides = [...adapter, ...options.set.map(parseSet)].reduce(mergeConfig, {});
  const model = resolveBase(store, registry, options.model);
  const plan = await planForTraining(context, options, io.err);
  const [trainingFile, ...instanceFiles] = await uploadSubject(store, options.subject, plan);
  const hyperparameters = Object.fromEntries(
    Object.entries({
      class_name: options.class,
      identifier: options.identifier,
      instance_prompt: options.instancePrompt,
      class_prompt: options.classPrompt,
      preset: options.preset,
      mode: options.mode,
      n_steps: options.steps,
      learning_rate: options.lr,
      resolution: options.resolution,
      prior_preservation: options.prior ? undefined : false,
      num_class_images: options.classImages,
      checkpoint_every: options.checkpointEvery,
    }).filter(([, value]) => value !== undefined),
  );
  const request = parseFineTuningJobCreate({
    model,
    training_file: trainingFile,
    method: {
      type: 'dreambooth',
      dreambooth: {
        hyperparameters,
        instance_files: instanceFiles,
        ...(Object.keys(overrides).length > 0 ? { config: overrides } : {}),
        ...(plan && { curation: { model: plan.model ?? defaultCurationModel, seed: plan.seed } }),
      },
    },
    seed: options.seed,
    suffix: options.suffix,
  });
  return runner.create(request, fileConfig, plan);
}

/** What `atelier train` runs on: the home, and chat models for `--curate` (released when training starts). */
export type TrainContext = Pick<AppContext, 'store' | 'registry'> &
  Partial<Pick<AppContext, 'config'>> & { pool?: ChatModelPool };

/**
 * Runs `atelier train` against the local store (no server needed): creates the job like the API does, trains with
 * progress bars, and prints the new model's name on stdout. Ctrl-C pauses (the worker saves a checkpoint) and says
 * how to resume. Returns the exit status: 0 succeeded, 1 failed or bad input, 130 paused.
 */
export async function runTrain(context: TrainContext, options: TrainOptions, io: TrainIo): Promise<number> {
  const { store, registry } = context;
  const runner = new FineTuneRunner({ store, installer: registry });
  const progress = new TrainProgress({ write: io.err, tty: io.tty });
  let paused = false;
  const onSigint = (): void => {
    paused = true;
    progress.line('pausing: the worker is saving a checkpoint…');
    void runner.close();
  };
  try {
    const job = options.resume ? await runner.resume(options.resume) : await createJob(context, runner, options, io);
    // The VLM is done once the job exists: its memory goes back before training takes the machine.
    await context.pool?.dispose();
    progress.line(`${options.resume ? 'resuming' : 'created'} ${job.id} on ${job.model}`);
    runner.on('event', (_id, event) => progress.update(event));
    process.once('SIGINT', onSigint);
    const done = await runner.wait(job.id);
    progress.stop();
    if (paused || !['succeeded', 'failed', 'cancelled'].includes(done.status)) {
      io.err(`paused ${done.id}; resume with: atelier train --resume ${done.id}\n`);
      return 130;
    }
    if (done.status !== 'succeeded') {
      io.err(`error: ${done.id} ${done.status}${done.error ? `: ${done.error.message}` : ''}\n`);
      return 1;
    }
    const seconds = (done.finishedAt ?? 0) - (done.startedAt ?? 0);
    io.out(`fine-tuned model: ${done.resultModel} (job ${done.id}, ${formatDuration(seconds)})\n`);
    return 0;
  } catch (error) {
    progress.stop();
    const message = error instanceof ApiError ? error.message : ((error as Error).stack ?? String(error));
    io.err(`error: ${message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all([runner.close(), context.pool?.dispose()]);
  }
}

/** Registers `atelier train` (see `runTrain`). */
export function registerTrain(program: Command, deps: CliDeps): void {
  program
    .command('train')
    .description('DreamBooth: teach a Stable Diffusion model a subject from 3+ photos (LoRA by default)')
    .option('-s, --subject <path>', 'folder (or zip) of 3+ photos of the subject')
    .option('--class <noun>', 'what the subject is, e.g. dog (builds the prompts)')
    .option('-m, --model <name|path>', 'base model: an installed name, or a path to import (default: the only one)')
    .option('-c, --config <file>', 'YAML training config (python/atelier_diffusion/config.py schema)')
    .option('--preset <tier>', 'memory tier: 8gb | 12gb | 24gb')
    .option('--mode <mode>', 'lora (default) | full')
    .option('--steps <n>', 'optimizer steps', integer)
    .option('--lr <rate>', 'learning rate', number)
    .option('--resolution <px>', "training resolution (multiple of 8; default: the base model's native size)", integer)
    .option('--adapter <kind>', 'lora (default) | lokr | loha: LyCORIS adapters through peft (LoRA mode)')
    .option('--identifier <token>', 'rare token naming the subject (default sks)')
    .option('--instance-prompt <text>', 'prompt for the subject photos')
    .option('--class-prompt <text>', 'prompt for the class images')
    .option('--no-prior', 'train without prior preservation')
    .option('--class-images <n>', 'class images for prior preservation', integer)
    .option('--checkpoint-every <n>', 'save a resumable checkpoint every n steps', integer)
    .option('--seed <n>', 'random seed', integer)
    .option('--suffix <name>', 'part of the new model name (ft:<base>:<suffix>:<id>)')
    .option(
      '--set <key=value>',
      'raw config override, repeatable (e.g. train.grad_accum=2)',
      (v, all: string[]) => [...all, v],
      [],
    )
    .option('--resume <job>', 'continue a paused job from its last checkpoint')
    .option(
      '--curate [vlm]',
      `curate the photos with a vision model first (default ${defaultCurationModel}): drops, class, captions`,
    )
    .option('--plan <file>', 'train from a curation plan (atelier curate --json, maybe edited)')
    .action(async (options: TrainOptions, command: Command) => {
      const { out, err } = writers(deps);
      const trainConfig = takeTrainConfig(command) ?? options.config;
      if (trainConfig !== undefined) options.config = trainConfig;
      await withContext(command, async (context) => {
        await deps.python.ensure((line) => err(`${line}\n`));
        const pool = options.curate !== undefined ? chatPoolOf(deps, context) : undefined;
        process.exitCode = await runTrain({ ...context, pool }, options, { out, err, tty: process.stderr });
      });
    });
}
