/**
 * Curation inside a fine-tuning job: the plan (made now by a VLM, or given ready — an edited `--plan` file) decides
 * the job's photos, fills in the class noun when the request left it out, and yields the caption rows.
 */
import { InvalidRequestError, type DreamboothCuration, type DreamboothHyperparameters } from '../../protocol/index.js';
import { dreamboothPrompts } from '../dreambooth-config.js';
import type { SubjectImage } from '../subject-images.js';
import { keptPhotos, planCaptions } from './apply-plan.js';
import { curatePhotos, type CurationPlan } from './curation-plan.js';
import type { PhotoJudge } from './verdict.js';

/** What a job takes from its plan. */
export interface CurationApplied {
  plan: CurationPlan;
  /** The kept photos, in order. */
  images: SubjectImage[];
  hyperparameters: DreamboothHyperparameters;
  /** metadata.jsonl rows, or null without captioned training. */
  captions: { file_name: string; text: string }[] | null;
}

/** Makes the judge of a named VLM sampling with `seed` (the server wires it to its chat pool). */
export type JudgeFor = (model: string, seed: number) => Promise<PhotoJudge>;

/** Where a job's plan comes from: a ready plan, or a VLM judge to make one. */
export type PlanSource = { plan: CurationPlan } | { judge: JudgeFor };

/**
 * Makes or takes the plan, keeps its photos and, when `hyperparameters` name no class, takes the plan's class noun
 * (a 400 when there is none and no prompts either). Smallest side: `curation.minSize`, else half the training
 * resolution (the worker's own minimum), else 256.
 */
export async function applyCurationToJob(
  images: SubjectImage[],
  hyperparameters: DreamboothHyperparameters,
  curation: DreamboothCuration,
  source: PlanSource,
): Promise<CurationApplied> {
  const param = 'method.dreambooth.curation';
  const plan =
    'plan' in source
      ? source.plan
      : await curatePhotos(images, {
          model: curation.model,
          judge: await source.judge(curation.model, curation.seed),
          className: hyperparameters.className ?? null,
          seed: curation.seed,
          minSize: curation.minSize ?? (hyperparameters.resolution ? Math.max(1, hyperparameters.resolution / 2) : 256),
        });
  const kept = keptPhotos(images, plan, param);
  const hp = { ...hyperparameters, className: hyperparameters.className ?? plan.class_noun ?? undefined };
  if (hp.className === undefined && hp.instancePrompt === undefined) {
    throw new InvalidRequestError("Curation proposed no class noun; set 'class_name' (e.g. 'dog').", {
      param: 'method.dreambooth.hyperparameters.class_name',
      code: 'invalid_value',
    });
  }
  const names = kept.map((image) => image.name);
  const captions = curation.captions ? planCaptions(names, plan, dreamboothPrompts(hp).instance) : null;
  return { plan, images: kept, hyperparameters: hp, captions };
}

/** One line for the job's events: what curation decided. */
export function curationSummary(plan: CurationPlan): string {
  const noun = plan.class_noun ? `class noun '${plan.class_noun}' (${plan.class_noun_source})` : 'no class noun';
  const judge = plan.model ? ` by ${plan.model}` : '';
  return `Curated subject photos${judge}: kept ${plan.kept} of ${plan.photos.length}, ${noun}`;
}
