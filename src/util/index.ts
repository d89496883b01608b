export { fsyncDir, writeFileAtomic } from './atomic-write.js';
export { gitBlobSha1File, hashFile, sha256, sha256File } from './hash.js';
export { formatBytes } from './format-bytes.js';
export { imageSizeProblem, readImageHeader, type ImageHeader, type ImageSizeLimits } from './image-header.js';
export { newId } from './new-id.js';
export { acquirePidLock, LockedError } from './pid-lock.js';
export {
  createAddressPolicy,
  isPublicAddress,
  normalizeHost,
  outboundFetch,
  OutboundError,
  parseAddress,
  type AddressPolicy,
  type AddressPolicyOptions,
  type OutboundFailure,
  type OutboundOptions,
} from './outbound/index.js';
export { lowerThreadPriority, startModuleWorker } from './module-worker.js';
export { nextLoopTurn } from './loop-turn.js';
