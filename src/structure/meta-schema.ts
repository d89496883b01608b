import { Ajv2020 } from 'ajv/dist/2020.js';
import { CompileError } from './errors.js';

/**
 * Keyword values are checked against JSON Schema's own meta-schema before anything is compiled, so `minLength: -1`,
 * `minLength: 1.5`, `required: "a"` or `type: "strng"` are refused with the keyword and where it sits instead of
 * being read as if absent (a silently ignored keyword is a fail-open grammar). ajv ships the 2020-12 meta-schema;
 * `prepareSchema` has already put older drafts' array and exclusive-bound forms into 2020-12's, and keeps a
 * draft-06+ boolean `exclusiveMinimum` (invalid there) for this check to refuse. Formats are not checked here (the
 * meta-schema's `uri-reference`/`regex` formats would refuse `$id`s and patterns that validators accept).
 */
let ajv: Ajv2020 | undefined;

/** Throws CompileError(keyword, pointer) for the first keyword whose value the 2020-12 meta-schema refuses. */
export function checkMetaSchema(prepared: unknown): void {
  ajv ??= new Ajv2020({ strict: false, validateFormats: false, allErrors: false, logger: false });
  const validate = ajv.getSchema('https://json-schema.org/draft/2020-12/schema')!;
  if (validate(prepared) === true) return;
  const error = validate.errors?.[0];
  const path = error?.instancePath ?? '';
  const cut = path.lastIndexOf('/');
  const keyword =
    cut < 0
      ? 'schema'
      : path
          .slice(cut + 1)
          .replace(/~1/g, '/')
          .replace(/~0/g, '~');
  const pointer = cut < 0 ? '' : path.slice(0, cut);
  const detail = error
    ? `${error.message ?? 'invalid'}${error.params && Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ''}`
    : 'invalid';
  throw new CompileError(keyword, pointer, `invalid value for this keyword (JSON Schema meta-schema: ${detail})`);
}
