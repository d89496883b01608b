/** ajv verdicts for the structure bench and tests: the reference validator every decoder verdict is checked against. */
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const draft7 = new Ajv({ strict: false, validateSchema: false, allErrors: false, logger: false });
const draft2020 = new Ajv2020({ strict: false, validateSchema: false, allErrors: false, logger: false });
(addFormats as unknown as (a: Ajv) => void)(draft7);
(addFormats as unknown as (a: Ajv2020) => void)(draft2020);

/** Compiles `schema` with the draft it declares; null when ajv cannot compile it. */
export function ajvValidator(schema: unknown): ValidateFunction | null {
  const declared =
    typeof schema === 'object' && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
  const ajv = /2019-09|2020-12/.test(declared) ? draft2020 : draft7;
  try {
    const copy = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
    if (typeof copy === 'object' && copy !== null) {
      delete copy.$id;
      delete copy.id;
      delete copy.$schema;
      delete copy.$async; // an async schema returns promises; the verdict is the same synchronously
    }
    return ajv.compile(copy);
  } catch {
    return null;
  }
}

/** ajv's verdict on each instance (null where ajv cannot compile the schema). */
export function ajvFor(schema: unknown, instances: unknown[]): (boolean | null)[] {
  const validate = ajvValidator(schema);
  return instances.map((d) => {
    if (!validate) return null;
    try {
      return Boolean(validate(d));
    } catch {
      return false;
    }
  });
}
