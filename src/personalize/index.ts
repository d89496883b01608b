// Public face of src/personalize: DreamBooth jobs, their worker driver and the Python environment.
export { FineTuneRunner, type FineTuneRunnerEvents, type FineTuneRunnerOptions } from './fine-tune-runner.js';
export { fineTunedModelName, installFineTuneOutput, installJobOutput, type ModelInstaller } from './fine-tune-output.js';
export { fineTuningKind, jobPaths, type DreamboothJobParams } from './job-request.js';
export type { LiveProgress } from './job-recorder.js';
export { canTransition, isTerminal } from './job-state.js';
export { buildDreamboothConfig, dreamboothPrompts, mergeConfig, type JobPaths, type WorkerConfig } from './dreambooth-config.js';
export { imageKind, minSubjectImages, readSubjectImages, type SubjectImage } from './subject-images.js';
export { JsonLineDecoder, type DecodedLine } from './json-lines.js';
export { describeWorkerFailure, workerFailure, WorkerProcess, type WorkerCommand, type WorkerDriverOptions, type WorkerExit } from './worker-driver.js';
export { parseWorkerEvent, type WorkerEvent } from './worker-events.js';
export { ensurePythonEnv, pythonExecutable, workerEnv } from './python-env.js';
export { formatDuration, TrainProgress, type TrainProgressOptions } from './train-progress.js';
export { WorkerConfigSchema, type ConfigProblem } from './config-schema.js';
