export { fsyncDir, writeFileAtomic } from './atomic-write.js';
export { gitBlobSha1File, hashFile, sha256, sha256File } from './hash.js';
export { formatBytes } from './format-bytes.js';
export { newId } from './new-id.js';
export { acquirePidLock, LockedError } from './pid-lock.js';
