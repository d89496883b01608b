// Public face of src/worker: the one bridge to the Python diffusion worker — a multiplexed JSON-lines client, its
// typed events and errors, and the Python environment it runs in.
export { callOnce, WorkerClient, workerModule, type CallOptions, type WorkerClientOptions } from './worker-client.js';
export { WorkerCancelledError, WorkerClosedError, WorkerCrashError, WorkerError } from './worker-error.js';
export {
  parseWorkerEvent,
  type CheckpointEvent,
  type ErrorEvent,
  type ResultEvent,
  type WorkerEvent,
  type WorkerProblem,
} from './worker-events.js';
export { JsonLineDecoder, type DecodedLine } from './json-lines.js';
export {
  ensurePythonEnv,
  packageRoot,
  PythonEnv,
  pythonRoot,
  runPython,
  workerEnv,
  type PythonEnvLog,
  type PythonEnvOptions,
  type RunPythonOptions,
} from './python-env.js';
