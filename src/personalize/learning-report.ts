import type { CheckpointScores } from '../protocol/index.js';
import type { Store } from '../store/index.js';

/**
 * How much more than the base model a checkpoint's class images may look like the subject (the judge's `drift`)
 * and still be recommended. Cosine-similarity units: 0.05 is a small fraction of the spread between unrelated
 * and identical images for CLIP-style embedders.
 */
export const defaultDriftTolerance = 0.05;

/** One judged checkpoint of a job. */
export interface ReportEntry {
  step: number;
  scores: CheckpointScores;
}

/** A job's learning report: the judge's scores per judged step (ascending) and the recommended step. */
export interface LearningReport {
  jobId: string;
  entries: ReportEntry[];
  driftTolerance: number;
  /** The step the rule picks (see `recommendCheckpoint`), or null before any step is judged. */
  recommendedStep: number | null;
}

/**
 * The recommended checkpoint: the highest subject score among the steps whose drift stays within `tolerance` of
 * the base (ties: the earlier step, being the less trained); when every step drifts more, the least drifted one.
 * Null when nothing was judged.
 */
export function recommendCheckpoint(entries: readonly ReportEntry[], tolerance = defaultDriftTolerance): number | null {
  const within = entries.filter((e) => e.scores.drift <= tolerance);
  if (within.length > 0) {
    return within.reduce((best, e) => (e.scores.subject > best.scores.subject ? e : best)).step;
  }
  if (entries.length === 0) return null;
  return entries.reduce((best, e) => (e.scores.drift < best.scores.drift ? e : best)).step;
}

function isScores(value: unknown): value is CheckpointScores {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Record<string, unknown>;
  const prompt = s.prompt === null || typeof s.prompt === 'number';
  return prompt && ['subject', 'drift', 'diversity'].every((key) => typeof s[key] === 'number');
}

/**
 * The report of job `jobId` from its judge events (`data: {step, scores}`, recorded by JobRecorder); a step judged
 * twice (a resumed run) keeps its latest scores.
 */
export function learningReport(store: Store, jobId: string, tolerance = defaultDriftTolerance): LearningReport {
  const byStep = new Map<number, CheckpointScores>();
  for (const event of store.events.since(jobId)) {
    const step = event.data?.step;
    const scores = event.data?.scores;
    if (typeof step === 'number' && isScores(scores)) byStep.set(step, scores);
  }
  const entries = [...byStep].sort(([a], [b]) => a - b).map(([step, scores]) => ({ step, scores }));
  return { jobId, entries, driftTolerance: tolerance, recommendedStep: recommendCheckpoint(entries, tolerance) };
}
