/**
 * The curation plan's JSON Schema (draft 2020-12) — the format of `atelier curate --json`, of `--plan` files and of
 * the job event that records a plan. docs/curation-plan.schema.json is this object, written out (a test keeps the
 * two equal); edited plans are checked against it before use.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { InvalidRequestError } from '../../protocol/index.js';
import type { CurationPlan } from './curation-plan.js';
import { photoProblems, photoVerdictSchema } from './verdict.js';

/** Why a photo is dropped (or, for VLM findings not acted on, warned about). */
export const reasonCodes = [
  'decode_failed',
  'too_large',
  'too_small',
  'near_duplicate',
  'no_subject',
  ...photoProblems,
] as const;

const reason = {
  type: 'object',
  properties: { code: { enum: [...reasonCodes] }, message: { type: 'string' } },
  required: ['code', 'message'],
  additionalProperties: false,
};

const nullableInt = { type: ['integer', 'null'], minimum: 0 };

/** The plan schema (`$id` names the file shipped in docs/). */
export const curationPlanSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://atelier.local/schemas/curation-plan.schema.json',
  title: 'atelier curation plan',
  type: 'object',
  properties: {
    object: { const: 'curation.plan' },
    version: { const: 1 },
    model: { type: ['string', 'null'], description: 'the VLM that judged the photos; null: atelier checks only' },
    seed: { type: 'integer', minimum: 0 },
    min_size: { type: 'integer', minimum: 1, description: 'smallest accepted short side, px' },
    duplicate_distance: { type: 'integer', minimum: 0, maximum: 64, description: 'dHash bits counted as duplicates' },
    class_noun: { type: ['string', 'null'], minLength: 1 },
    class_noun_source: { enum: ['given', 'majority', 'none'] },
    class_votes: {
      type: 'array',
      items: {
        type: 'object',
        properties: { noun: { type: 'string', minLength: 1 }, votes: { type: 'integer', minimum: 1 } },
        required: ['noun', 'votes'],
        additionalProperties: false,
      },
    },
    photos: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1 },
          keep: { type: 'boolean' },
          width: nullableInt,
          height: nullableInt,
          dhash: { type: ['string', 'null'], pattern: '^[0-9a-f]{16}$' },
          caption: { type: ['string', 'null'] },
          reasons: { type: 'array', items: reason },
          warnings: { type: 'array', items: reason },
          verdict: { anyOf: [{ type: 'null' }, photoVerdictSchema] },
        },
        required: ['name', 'keep', 'width', 'height', 'dhash', 'caption', 'reasons', 'warnings', 'verdict'],
        additionalProperties: false,
      },
    },
    kept: { type: 'integer', minimum: 0 },
    dropped: { type: 'integer', minimum: 0 },
  },
  required: [
    'object',
    'version',
    'model',
    'seed',
    'min_size',
    'duplicate_distance',
    'class_noun',
    'class_noun_source',
    'class_votes',
    'photos',
    'kept',
    'dropped',
  ],
  additionalProperties: false,
} as const;

// strict off: `description` sits beside keywords the strict mode would otherwise question; formats are unused.
const validator = new Ajv2020({ allErrors: true, strict: false }).compile(curationPlanSchema);

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

/**
 * Checks a plan (parsed JSON, e.g. an edited `--plan` file) against the schema and returns it typed; throws a 400
 * naming `param` with the first few schema errors.
 */
export function parseCurationPlan(value: unknown, param = 'plan'): CurationPlan {
  if (!validator(value)) {
    throw new InvalidRequestError(`The curation plan does not match its schema: ${describe(validator.errors)}`, {
      param,
      code: 'invalid_plan',
    });
  }
  return value as unknown as CurationPlan;
}
