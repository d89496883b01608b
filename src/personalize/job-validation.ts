import { ApiError } from '../protocol/index.js';
import type { JobRecord, Store } from '../store/index.js';
import { JobRecorder } from './job-recorder.js';
import { jobParams, jobPaths, writeJobPhotos } from './job-request.js';
import type { SubjectImage } from './subject-images.js';

/** What the runner does with the outcome of `validateJobFiles`. */
export interface JobValidationHooks {
  /** Whether the job is still waiting for its files (not cancelled, runner not closed). */
  stillValidating: () => boolean;
  /** The photos are in place: queue the job. */
  valid: () => void;
  /** A photo was refused: fail the job with this message, naming `param`. */
  invalid: (message: string, param: string) => void;
}

/**
 * Writes a `validating_files` job's photos where the worker reads them, then calls `valid` or `invalid`. Deferred to
 * the next turn of the event loop so a create request answers at once, with the job still `validating_files`.
 * Archives are extracted on a worker thread and photos written asynchronously, so this runs across awaits: the job
 * may be cancelled meanwhile, and is then left as it is.
 */
export function validateJobFiles(
  store: Store,
  job: JobRecord,
  images: () => Promise<SubjectImage[]>,
  hooks: JobValidationHooks,
): void {
  setImmediate(
    () =>
      void (async () => {
        if (!hooks.stillValidating()) return;
        try {
          const photos = await images();
          if (!hooks.stillValidating()) return;
          await writeJobPhotos(jobPaths(store, job.id).instanceDir, photos, jobParams(job));
          new JobRecorder(store, job.id, null).message(
            `Validated training files: ${photos.length} subject photos`,
            'info',
            {
              images: photos.map((image) => image.name),
            },
          );
        } catch (error) {
          const param = error instanceof ApiError ? error.param : null;
          if (hooks.stillValidating()) hooks.invalid((error as Error).message, param ?? 'training_file');
          return;
        }
        if (hooks.stillValidating()) hooks.valid();
      })(),
  );
}
