export { createServer, type CreateServerDeps, type RoutePlugin, type ServerDeps } from './create-server.js';
export { ServedModels } from './served-models.js';
export { openSse, type SseStream } from './sse.js';
export { toHttpError, registerErrorHandling } from './error-handler.js';
export { maskKey } from './auth.js';
export { ConfigError, defaultConfig, loadConfig, type LoadConfigOptions } from './config.js';
export { configSchema, envKeys, type AtelierConfig } from './config-schema.js';
export { imageLimitsFromConfig } from './image-limits.js';
export { PathScrubber } from './scrub-paths.js';
