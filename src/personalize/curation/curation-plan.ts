/**
 * Curation: atelier's own checks and a VLM's verdicts combined into a plan — which photos to keep, why the others go,
 * the class noun (given, or proposed by majority) and a caption per kept photo. The plan is data the user may edit
 * (docs/CURATION.md); `applyCurationPlan` turns it into a job's photos, class and captions.
 */
import { minSubjectImages } from '../subject-images.js';
import { hashDistance, inspectPhoto, type DecodedPhoto } from './photo-checks.js';
import type { reasonCodes } from './plan-schema.js';
import {
  normalizeNoun,
  oneLine,
  type JudgedPhoto,
  type PhotoJudge,
  type PhotoProblem,
  type PhotoVerdict,
} from './verdict.js';

/** A reason to drop a photo, or a warning kept beside it. */
export interface PlanReason {
  code: (typeof reasonCodes)[number];
  message: string;
}

/** One photo's line in the plan. */
export interface PlanPhoto {
  name: string;
  keep: boolean;
  width: number | null;
  height: number | null;
  dhash: string | null;
  /** The VLM's caption (null for photos it never saw). */
  caption: string | null;
  reasons: PlanReason[];
  warnings: PlanReason[];
  verdict: PhotoVerdict | null;
}

/** A curation plan (the shape of docs/curation-plan.schema.json). */
export interface CurationPlan {
  object: 'curation.plan';
  version: 1;
  model: string | null;
  seed: number;
  min_size: number;
  duplicate_distance: number;
  class_noun: string | null;
  class_noun_source: 'given' | 'majority' | 'none';
  class_votes: { noun: string; votes: number }[];
  photos: PlanPhoto[];
  kept: number;
  dropped: number;
}

/** Options of `curatePhotos`. */
export interface CurateOptions {
  /** Name of the VLM behind `judge` (recorded in the plan); null with no judge. */
  model: string | null;
  /** Asks the VLM about a photo; null: atelier's own checks only. */
  judge: PhotoJudge | null;
  /** The user's class noun; null: proposed by majority of the VLM's answers. */
  className: string | null;
  /** Seed the judge samples with (recorded; the same seed and model give the same plan). Default 0. */
  seed?: number;
  /** Smallest accepted short side in pixels. Default 256 (the worker's own minimum at its default 512 px). */
  minSize?: number;
  /** dHash bits up to which a photo duplicates an earlier one. Default 10 (the worker's own default). */
  duplicateDistance?: number;
}

/** VLM problems that drop a photo; the others (low light, other) are kept as warnings. */
const droppingProblems: ReadonlySet<PhotoProblem> = new Set(['blur', 'several_subjects', 'text_overlay', 'heavy_crop']);

function ownCheck(decoded: DecodedPhoto, earlier: PlanPhoto[], minSize: number, distance: number): PlanReason | null {
  const side = Math.min(decoded.width, decoded.height);
  if (side < minSize) {
    return {
      code: 'too_small',
      message: `${decoded.width}x${decoded.height} px; need at least ${minSize} px on the short side`,
    };
  }
  const twins = earlier
    .filter((p) => p.keep && p.dhash !== null)
    .map((p) => ({ name: p.name, bits: hashDistance(p.dhash!, decoded.dhash) }))
    .sort((a, b) => a.bits - b.bits);
  const twin = twins[0];
  if (twin && twin.bits <= distance) {
    return {
      code: 'near_duplicate',
      message: `near-duplicate of ${twin.name} (dHash distance ${twin.bits} ≤ ${distance})`,
    };
  }
  return null;
}

function verdictFindings(verdict: PhotoVerdict): PlanReason[] {
  const found: PlanReason[] = verdict.subject_present
    ? []
    : [{ code: 'no_subject', message: 'the VLM sees no single subject' }];
  return [
    ...found,
    ...verdict.problems.map((code) => ({ code, message: `the VLM reports ${code.replace('_', ' ')}` })),
  ];
}

/**
 * Applies the VLM's findings: `no_subject` and the dropping problems drop a photo while at least `minSubjectImages`
 * stay kept (earlier photos first); what cannot be dropped, and mild problems, become warnings.
 */
function applyFindings(photos: PlanPhoto[]): void {
  let kept = photos.filter((p) => p.keep).length;
  for (const photo of photos) {
    if (!photo.keep || !photo.verdict) continue;
    const findings = verdictFindings(photo.verdict);
    const serious = findings.filter((f) => f.code === 'no_subject' || droppingProblems.has(f.code as PhotoProblem));
    if (serious.length > 0 && kept > minSubjectImages) {
      photo.keep = false;
      photo.reasons = serious;
      photo.warnings = findings.filter((f) => !serious.includes(f));
      kept--;
    } else photo.warnings = findings;
  }
}

/** Majority vote over the kept photos' nouns; ties go to the noun seen first. */
function classVotes(photos: PlanPhoto[]): { noun: string; votes: number }[] {
  const votes = new Map<string, number>();
  for (const photo of photos) {
    const noun = photo.keep && photo.verdict ? normalizeNoun(photo.verdict.class_noun) : null;
    if (noun) votes.set(noun, (votes.get(noun) ?? 0) + 1);
  }
  return [...votes].map(([noun, n]) => ({ noun, votes: n })).sort((a, b) => b.votes - a.votes);
}

/**
 * Builds the plan for `photos` (in the order given): decodes and hashes each one, asks the judge about each photo
 * that passes atelier's checks (one at a time: the chat model is one shared engine), then applies the findings and
 * proposes the class noun.
 */
export async function curatePhotos(photos: readonly JudgedPhoto[], options: CurateOptions): Promise<CurationPlan> {
  const minSize = options.minSize ?? 256;
  const distance = options.duplicateDistance ?? 10;
  const given = options.className === null ? null : normalizeNoun(options.className);
  const planned: PlanPhoto[] = [];
  for (const photo of photos) {
    const line: PlanPhoto = {
      name: photo.name,
      keep: false,
      width: null,
      height: null,
      dhash: null,
      caption: null,
      reasons: [],
      warnings: [],
      verdict: null,
    };
    planned.push(line);
    const inspection = await inspectPhoto(photo.bytes);
    if (!inspection.ok) {
      line.reasons.push({ code: inspection.code, message: inspection.message });
      continue;
    }
    Object.assign(line, { width: inspection.photo.width, height: inspection.photo.height });
    const problem = ownCheck(inspection.photo, planned, minSize, distance);
    line.dhash = inspection.photo.dhash;
    if (problem) {
      line.reasons.push(problem);
      continue;
    }
    line.keep = true;
    if (options.judge) {
      const verdict = await options.judge(photo, given);
      line.verdict = { ...verdict, problems: [...new Set(verdict.problems)] };
      line.caption = oneLine(verdict.caption) || null;
    }
  }
  applyFindings(planned);
  const votes = classVotes(planned);
  const noun = given ?? votes[0]?.noun ?? null;
  const kept = planned.filter((p) => p.keep).length;
  return {
    object: 'curation.plan',
    version: 1,
    model: options.judge ? options.model : null,
    seed: options.seed ?? 0,
    min_size: minSize,
    duplicate_distance: distance,
    class_noun: noun,
    class_noun_source: given ? 'given' : noun ? 'majority' : 'none',
    class_votes: votes,
    photos: planned,
    kept,
    dropped: planned.length - kept,
  };
}
