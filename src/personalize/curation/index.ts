// Public face of src/personalize/curation: photo checks, VLM verdicts and the plan they make.
export {
  applyCurationToJob,
  curationSummary,
  type CurationApplied,
  type JudgeFor,
  type PlanSource,
} from './job-curation.js';
export {
  curatePhotos,
  type CurateOptions,
  type CurationPlan,
  type PlanPhoto,
  type PlanReason,
} from './curation-plan.js';
export { keptPhotos, planCaptions, writeCaptions } from './apply-plan.js';
export { curationPlanSchema, parseCurationPlan, reasonCodes } from './plan-schema.js';
export { differenceHash, hashDistance, inspectPhoto } from './photo-checks.js';
export { photoExtensions, readPhotoSource } from './photo-source.js';
export {
  normalizeNoun,
  oneLine,
  photoProblems,
  photoVerdictSchema,
  verdictPrompt,
  type JudgedPhoto,
  type PhotoJudge,
  type PhotoProblem,
  type PhotoVerdict,
} from './verdict.js';
