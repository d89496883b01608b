/**
 * Size limits on subject photos, checked from each photo's header before the job is accepted: the worker decodes
 * every photo in full (PIL), so a few-kilobyte PNG declaring 1×60,000,000 pixels would otherwise cost it a minute
 * of CPU and gigabytes. The limits sit well above camera sizes (a 50 MP photo is 8660×5773) because training
 * downsizes every photo anyway.
 */
import { InvalidRequestError } from '../protocol/index.js';
import { imageSizeProblem, readImageHeader, type ImageSizeLimits } from '../util/index.js';

/** Largest subject photo: 16 384 px a side, 64 Mi pixels (256 MiB of RGBA once decoded). */
export const subjectPhotoLimits: ImageSizeLimits = { maxSide: 16_384, maxPixels: 64 * 1024 * 1024 };

/**
 * Throws a 400 naming `fileId` (and the photo, for a zip) when the header of a photo's file is unreadable or
 * declares more than `limits`; decodes no pixels, and reads no more of a file than its header.
 */
export async function checkPhotoSizes(
  photos: readonly { name: string; path: string }[],
  fileId: string,
  param: string,
  limits: ImageSizeLimits = subjectPhotoLimits,
): Promise<void> {
  for (const photo of photos) {
    const problem = await readImageHeader(photo.path).then(
      (header) => imageSizeProblem(header, limits),
      (error: unknown) => `its header is unreadable (${(error as Error).message})`,
    );
    if (problem) {
      throw new InvalidRequestError(`File ${fileId}: photo ${photo.name}: ${problem}.`, {
        param,
        code: 'invalid_file',
      });
    }
  }
}
