/**
 * What the vision-language model says about one subject photo: a fixed JSON Schema that the chat engine enforces
 * with its constrained decoder, so every answer parses — even from a random-weight demo model.
 */

/** Problems the VLM may name; atelier's own checks (decode, size, duplicates) are separate reason codes. */
export const photoProblems = ['blur', 'several_subjects', 'text_overlay', 'heavy_crop', 'low_light', 'other'] as const;
/** One of `photoProblems`. */
export type PhotoProblem = (typeof photoProblems)[number];

/** The VLM's answer for one photo (the schema's fields, as decoded). */
export interface PhotoVerdict {
  /** Whether one subject worth training on is visible. */
  subject_present: boolean;
  /** The subject's class as one lower-case noun, e.g. `dog`. */
  class_noun: string;
  /** One line describing the photo, without the identifier (atelier adds the instance prompt in front). */
  caption: string;
  /** Defects that hurt DreamBooth training (the decoder cannot enforce uniqueness: the plan keeps each once). */
  problems: PhotoProblem[];
}

/**
 * The JSON Schema the VLM answers under (`response_format: json_schema`, strict). Lengths are capped so that a
 * wandering model still ends within the token budget; docs/CURATION.md documents it.
 */
export const photoVerdictSchema = {
  type: 'object',
  properties: {
    subject_present: { type: 'boolean' },
    class_noun: { type: 'string', minLength: 1, maxLength: 32 },
    caption: { type: 'string', minLength: 1, maxLength: 160 },
    problems: { type: 'array', items: { enum: [...photoProblems] }, maxItems: photoProblems.length },
  },
  required: ['subject_present', 'class_noun', 'caption', 'problems'],
  additionalProperties: false,
} as const;

/** One photo handed to a judge: its name (for messages) and bytes. */
export interface JudgedPhoto {
  name: string;
  bytes: Uint8Array;
}

/**
 * Asks a VLM about one photo. `classHint` is the user's class noun when given (the model is told it, so captions
 * and the subject check use it). Implemented above personalize/ (it runs a chat model); see `vlmPhotoJudge`.
 */
export type PhotoJudge = (photo: JudgedPhoto, classHint: string | null) => Promise<PhotoVerdict>;

/**
 * One line of text as the plan keeps it: control characters and runs of whitespace become one space, trimmed. A
 * caption lands in a JSON-lines file and a table row; the decoder allows any string character, newlines included.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** A class noun as the plan keeps it: one line, lower case; null when nothing is left. */
export function normalizeNoun(noun: string): string | null {
  const clean = oneLine(noun).toLowerCase();
  return clean === '' ? null : clean;
}

/** The instruction each photo is sent with (fixed, so plans are reproducible for a given model and seed). */
export function verdictPrompt(classHint: string | null): string {
  const about = classHint ? `The subject should be a ${classHint}. ` : '';
  return (
    `${about}This photo is a candidate for teaching an image model one specific subject. Answer in JSON: ` +
    'subject_present (is exactly that one subject clearly visible?), class_noun (one common noun for what it is), ' +
    'caption (one short line describing the photo: pose, setting, lighting), and problems (blur, several_subjects, ' +
    'text_overlay, heavy_crop, low_light, other; empty when none).'
  );
}
