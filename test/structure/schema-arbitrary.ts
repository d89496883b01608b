/**
 * fast-check arbitraries for property tests of the decoder: schemas and instances that aim at the places a
 * compiler goes wrong — names that are Object.prototype members (and `__proto__`, the empty name, non-ASCII),
 * overlapping composition (allOf members with prefixItems/items/properties/additionalProperties of their own),
 * deep nesting, and numeric edge cases (±0, 1e308, -1e-7, 9007199254740993).
 */
import fc from 'fast-check';

/** Every own name of Object.prototype (incl. `__proto__`), the empty name, and non-ASCII names. */
export const HOSTILE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), '', 'é', '😀'];
/** Names used for properties, required and instance keys. */
export const NAMES = [...HOSTILE_NAMES, 'a', 'b'];
/** Numbers at the edges of JSON and IEEE 754 (9007199254740993 is 2^53 + 1: it parses to 2^53). */
export const EDGE_NUMBERS = [
  0,
  -0,
  1e308,
  -1e308,
  -1e-7,
  1e-7,
  Number('9007199254740993'),
  Number('-9007199254740993'),
  3,
  -5,
  2.5,
  0.1,
];

/** An object whose members are defined, not assigned, so `__proto__` is a member like any other. */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const name = fc.constantFrom(...NAMES);
const edge = fc.constantFrom(...EDGE_NUMBERS);
const smallString = fc.constantFrom('', 'a', 'é', '__proto__', 'valueOf', 'ab', '😀');

/** JSON values with hostile keys and edge numbers (up to 3 levels deep). */
export const instanceArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    edge,
    fc.integer({ min: -20, max: 20 }),
    smallString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.uniqueArray(fc.tuple(name, tie('value')), { maxLength: 4, selector: ([k]) => k }).map(objectOf),
  ),
})).value;

/** Literals for enum/const: keys kept to plain names (ajv's deep equality calls an own `valueOf`; see spec-table). */
const literal: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  edge,
  smallString,
  fc.array(edge, { maxLength: 2 }),
  fc
    .uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'é', ''), edge), { maxLength: 2, selector: ([k]) => k })
    .map(objectOf),
);

/** Leaf schemas: numbers with edge bounds, short strings, literals, booleans. */
const leafSchema: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.record(
    { type: fc.constantFrom('integer', 'number'), minimum: edge, exclusiveMaximum: edge },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constant('string'), minLength: fc.nat(2), maxLength: fc.nat(4) }, { requiredKeys: ['type'] }),
  fc.record({ enum: fc.array(literal, { minLength: 1, maxLength: 4 }) }),
  fc.record({ const: literal }),
  fc.constantFrom({ type: 'boolean' }, { type: 'null' }, {}, { type: ['string', 'null'] }),
);

/** Schemas (JSON Schema 2020-12) built from the pieces above, nested up to the size fast-check chooses. */
export const schemaArb: fc.Arbitrary<unknown> = fc.letrec<{ schema: unknown }>((tie) => {
  const sub = tie('schema');
  const object = fc.record(
    {
      type: fc.constant('object'),
      properties: fc.uniqueArray(fc.tuple(name, sub), { maxLength: 3, selector: ([k]) => k }).map(objectOf),
      required: fc.uniqueArray(name, { maxLength: 3 }),
      additionalProperties: fc.oneof(fc.boolean(), sub),
      minProperties: fc.nat(2),
      dependentRequired: fc
        .uniqueArray(fc.tuple(name, fc.uniqueArray(name, { maxLength: 2 })), { maxLength: 2, selector: ([k]) => k })
        .map(objectOf),
      unevaluatedProperties: fc.oneof(fc.boolean(), sub),
    },
    { requiredKeys: ['type'] },
  );
  // Schema-valued dependencies (without unevaluatedProperties, which is refused beside them).
  const dependent = fc.record(
    {
      type: fc.constant('object'),
      properties: fc.uniqueArray(fc.tuple(name, sub), { maxLength: 2, selector: ([k]) => k }).map(objectOf),
      dependentSchemas: fc
        .uniqueArray(fc.tuple(name, sub), { minLength: 1, maxLength: 2, selector: ([k]) => k })
        .map(objectOf),
    },
    { requiredKeys: ['type', 'dependentSchemas'] },
  );
  const array = fc.record(
    {
      type: fc.constant('array'),
      prefixItems: fc.array(sub, { minLength: 1, maxLength: 3 }),
      items: fc.oneof(fc.boolean(), sub),
      minItems: fc.nat(2),
      maxItems: fc.integer({ min: 1, max: 4 }),
      unevaluatedItems: fc.oneof(fc.boolean(), sub),
    },
    { requiredKeys: ['type'] },
  );
  // Counted arrays: contains of the forms the decoder enforces (a scalar const, a type), over items.
  const counted = fc.record(
    {
      type: fc.constant('array'),
      items: sub,
      contains: fc.oneof(
        fc.record({ const: fc.oneof(edge, fc.boolean(), fc.constant(null), smallString) }),
        fc.record({ type: fc.constantFrom('string', 'number', 'null', 'array') }),
      ),
      minContains: fc.nat(2),
      maxContains: fc.nat(3),
      maxItems: fc.integer({ min: 1, max: 4 }),
    },
    { requiredKeys: ['type', 'contains'] },
  );
  // Composition whose members carry sibling-relative keywords of their own.
  const allOf = fc
    .record({ allOf: fc.array(fc.oneof(object, array, sub), { minLength: 1, maxLength: 3 }) })
    .chain((s) =>
      fc.oneof(
        fc.constant(s as Record<string, unknown>),
        fc
          .record(
            {
              prefixItems: fc.array(sub, { minLength: 1, maxLength: 2 }),
              properties: fc.uniqueArray(fc.tuple(name, sub), { maxLength: 2, selector: ([k]) => k }).map(objectOf),
            },
            { requiredKeys: [] },
          )
          .map((extra) => ({ ...s, ...extra })),
      ),
    );
  const anyOf = fc.record({ anyOf: fc.array(sub, { minLength: 1, maxLength: 3 }) });
  // A discriminating if (the form the decoder enforces) over a hostile name and a scalar literal.
  const discriminator = fc
    .record({ name, value: fc.oneof(edge, fc.boolean(), fc.constant(null), smallString), required: fc.boolean() })
    .map(({ name: n, value, required }) =>
      required
        ? { properties: objectOf([[n, { const: value }]]), required: [n] }
        : { properties: objectOf([[n, { const: value }]]) },
    );
  const conditional = fc.record({ if: discriminator, then: sub, else: sub }, { requiredKeys: ['if'] });
  return {
    schema: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafSchema,
      object,
      dependent,
      array,
      counted,
      allOf,
      anyOf,
      conditional,
    ),
  };
}).schema;

/** A whole schema document: declared 2020-12, so both oracles read it alike. */
export const documentArb: fc.Arbitrary<unknown> = schemaArb.map((s) =>
  s !== null && typeof s === 'object'
    ? { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(s as object) }
    : s,
);
