// Public face of src/personalize: DreamBooth jobs, their configs, progress and results (the worker is src/worker).
export { FineTuneRunner } from './fine-tune-runner.js';
export { fineTuningQueue, type FineTuneRunnerEvents, type FineTuneRunnerOptions } from './fine-tune-runner-options.js';
export {
  fineTunedModelName,
  installFineTuneOutput,
  installJobOutput,
  type ModelInstaller,
} from './fine-tune-output.js';
export { dreamboothJob, fineTuningKind, jobPaths, type DreamboothJob } from './job-request.js';
export * from './curation/index.js';
export { JobRecorder, type LiveProgress } from './job-recorder.js';
export { StageEta } from './stage-eta.js';
export { canTransition, isTerminal } from './job-state.js';
export {
  buildDreamboothConfig,
  dreamboothPrompts,
  mergeConfig,
  type JobPaths,
  type WorkerConfig,
} from './dreambooth-config.js';
export { imageKind, minSubjectImages, readSubjectImages, safeName, type SubjectImage } from './subject-images.js';
export { formatDuration, TrainProgress, type TrainProgressOptions } from './train-progress.js';
export {
  defaultDriftTolerance,
  learningReport,
  recommendCheckpoint,
  type LearningReport,
  type ReportEntry,
} from './learning-report.js';
export { WorkerConfigSchema, type ConfigProblem } from './config-schema.js';
