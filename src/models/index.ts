export { checkpointModel, checkpointModelName } from './checkpoint-model.js';
export { ModelRegistry, diskSize, validateModelName, type InstallOptions } from './registry.js';
export { detectFormat, isGguf, safetensorsKeys, UnknownModelFormatError, type DetectedModel } from './detect-format.js';
export { pull, type PullOptions } from './pull.js';
export { silentReporter, type PullReporter } from './pull-reporter.js';
export { IntegrityError } from './download-file.js';
export {
  HubHttpError,
  HubOfflineError,
  hubOptionsFromEnv,
  parseRepoSpec,
  type HubFile,
  type HubOptions,
} from './hub-client.js';
export {
  installDemos,
  type DemoModelSpec,
  type InstallDemosOptions,
  type InstallDemosResult,
} from './install-demos.js';
