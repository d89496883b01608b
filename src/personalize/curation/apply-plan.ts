/**
 * Turns a (possibly user-edited) curation plan into what a job trains on: the kept photos, and one caption line per
 * photo for captioned training (the worker's `data.captions`, read from `metadata.jsonl` in the imagefolder layout).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidRequestError } from '../../protocol/index.js';
import type { CurationPlan } from './curation-plan.js';

/**
 * The photos the plan keeps, in their original order. Every photo must be named in the plan (a plan made for other
 * photos is refused with a 400 naming `param`), and at least one must be kept; the count check is the job's.
 */
export function keptPhotos<T extends { name: string }>(photos: readonly T[], plan: CurationPlan, param: string): T[] {
  const byName = new Map(plan.photos.map((p) => [p.name, p]));
  const unknown = photos.filter((photo) => !byName.has(photo.name)).map((photo) => photo.name);
  if (unknown.length > 0) {
    throw new InvalidRequestError(`The curation plan does not name these photos: ${unknown.join(', ')}.`, {
      param,
      code: 'invalid_plan',
    });
  }
  return photos.filter((photo) => byName.get(photo.name)!.keep);
}

/**
 * One caption per kept photo: the instance prompt (which holds the identifier, so the subject is still learnt under
 * it), then the plan's caption when there is one. Returned as the worker reads it: `{file_name, text}`.
 */
export function planCaptions(names: readonly string[], plan: CurationPlan, instancePrompt: string) {
  const byName = new Map(plan.photos.map((p) => [p.name, p.caption]));
  return names.map((name) => {
    const caption = byName.get(name)?.trim();
    return { file_name: name, text: caption ? `${instancePrompt}, ${caption}` : instancePrompt };
  });
}

/** Writes `metadata.jsonl` (imagefolder layout) into the instance folder, after the photos were written there. */
export async function writeCaptions(
  dir: string,
  captions: readonly { file_name: string; text: string }[],
): Promise<void> {
  await writeFile(join(dir, 'metadata.jsonl'), captions.map((row) => `${JSON.stringify(row)}\n`).join(''));
}
