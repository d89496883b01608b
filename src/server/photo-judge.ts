/**
 * The curation judge: one chat completion per photo on a vision-language model, answered under the constrained
 * decoder with `photoVerdictSchema` — so the answer always parses, whatever the model. It sits here, above chat/ and
 * personalize/, because it joins the two (personalize/ only knows the `PhotoJudge` signature).
 */
import sharp from 'sharp';
import { completeChat, type ChatModel, type ImageLimits } from '../chat/index.js';
import { photoVerdictSchema, verdictPrompt, type PhotoJudge, type PhotoVerdict } from '../personalize/index.js';

/** Options of `vlmPhotoJudge`. */
export interface PhotoJudgeOptions {
  /** The model's name as requests give it (recorded in the completion only). */
  name: string;
  /** Sampling seed: the same seed, model and photos give the same verdicts. Default 0. */
  seed?: number;
  /** Image limits of the chat request (the server's); default the chat defaults. */
  imageLimits?: ImageLimits;
  /** Token cap per answer; the decoder steers the JSON to a valid end within it. Default 160. */
  maxTokens?: number;
}

/** Longest side a photo is sent at: VLM processors downsize far below this anyway, and camera photos are megabytes. */
const judgeSide = 448;

/** A `PhotoJudge` asking `model` (which must take images) about each photo. */
export function vlmPhotoJudge(model: ChatModel, options: PhotoJudgeOptions): PhotoJudge {
  return async (photo, classHint) => {
    const small = await sharp(photo.bytes)
      .rotate()
      .resize(judgeSide, judgeSide, { fit: 'inside', withoutEnlargement: true })
      .png()
      .toBuffer();
    const body = {
      model: options.name,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: `data:image/png;base64,${small.toString('base64')}` } },
            { type: 'text', text: verdictPrompt(classHint) },
          ],
        },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'photo_verdict', schema: photoVerdictSchema, strict: true },
      },
      seed: options.seed ?? 0,
      max_completion_tokens: options.maxTokens ?? 160,
    };
    const completion = await completeChat(model, body, options.imageLimits ? { imageLimits: options.imageLimits } : {});
    const content = completion.choices[0]?.message.content ?? '';
    try {
      return JSON.parse(content) as PhotoVerdict;
    } catch {
      // Only reachable if the decoder's guarantee broke: say so plainly rather than guess a verdict.
      throw new Error(
        `${options.name} gave no JSON verdict for ${photo.name}: ${JSON.stringify(content.slice(0, 200))}`,
      );
    }
  };
}
