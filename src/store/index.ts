export { openStore, type Store } from './open-store.js';
export { homeLayout, resolveHome, type HomeLayout } from './home.js';
export { migrate, migrations, type Migration } from './migrations.js';
export { BlobStore, type BlobRef } from './blob-store.js';
export { ModelRepo, type ModelFormat, type ModelRecord } from './model-repo.js';
export { FileRepo, type FileRecord } from './file-repo.js';
export { JobRepo, type JobPatch, type JobRecord, type JobStatus, type NewJob } from './job-repo.js';
export { EventRepo, type EventRecord, type NewEvent } from './event-repo.js';
export { CheckpointRepo, type CheckpointRecord } from './checkpoint-repo.js';
